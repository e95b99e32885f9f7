"""The module-grid reader for QR codes a decoder locates but cannot decode."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
import segno

from pos_app.scanning import grid
from pos_app.scanning.cascade import GRID, DecodeCascade
from pos_app.scanning.decoders import ZxingDecoder
from tests.scanning.test_scan_decoders import place, small_code


@pytest.mark.parametrize("version", range(1, grid.MAX_VERSION + 1))
def test_fixed_modules_match_every_code_of_the_version(version: int) -> None:
    pat = grid.pattern(version)
    assert pat.size == grid.dimension(version)
    rng = random.Random(version)
    for mask in range(8):
        text = "".join(rng.choice("ABCDEFGH0123") for _ in range(8))
        code = segno.make_qr(text, version=version, error="m", mask=mask, boost_error=False)
        modules = np.array(code.matrix, dtype=bool)
        assert (modules[pat.known] == pat.dark[pat.known]).all()
    # Finders, separators, timing and alignment: never data. The data area stays unknown.
    assert 0.05 < pat.known.mean() < 0.75


def test_unsupported_versions_are_refused() -> None:
    with pytest.raises(ValueError, match="version 21"):
        grid.pattern(21)
    assert grid.grid_views(np.zeros((100, 100), np.uint8), [(0, 0)] * 4, 41) is None


def _code_frame(
    token: str, *, module_px: float, blur: float
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    code = small_code(token, module_px=module_px, blur=blur)
    frame = place(np.full((480, 640), 190, np.uint8), code, 300, 150)
    n = grid.dimension(9)
    quiet = (code.shape[0] - n * module_px) / 2  # render_code draws a quiet zone
    x0, y0 = 300 + quiet, 150 + quiet
    side = n * module_px
    return frame, [(x0, y0), (x0 + side, y0), (x0 + side, y0 + side), (x0, y0 + side)]


def test_a_blurred_code_is_read_from_its_grid_from_a_rough_outline(token: str) -> None:
    frame, corners = _code_frame(token, module_px=1.6, blur=1.0)
    assert ZxingDecoder().decode(frame) == []
    # A near miss's outline is off by up to a module: the polish finds the grid.
    module = 1.6
    rough = [
        (x + dx * module, y + dy * module)
        for (x, y), (dx, dy) in zip(
            corners, [(0.6, -0.5), (-0.4, 0.6), (0.5, 0.4), (-0.6, -0.3)], strict=True
        )
    ]
    views = grid.grid_views(frame, rough, 9)
    assert views is not None
    reader = ZxingDecoder().for_crops()
    texts = {raw.text for image in views.images for raw in reader.decode(image)}
    assert texts == {token}
    # The renderings map back onto the code in the frame.
    mapped = cv2.transform(
        np.array([[[grid.QUIET * 3, grid.QUIET * 3]]], np.float32), views.to_frame
    ).reshape(2)
    assert np.abs(mapped - np.array(corners[0], np.float32)).max() < 2 * module


def test_a_grid_of_texture_is_no_code() -> None:
    rng = np.random.default_rng(7)
    texture = cv2.resize(rng.integers(0, 255, (60, 60), dtype=np.uint8), (240, 240))
    frame = place(np.full((480, 640), 128, np.uint8), texture, 200, 120)
    views = grid.grid_views(frame, [(210, 130), (430, 130), (430, 350), (210, 350)], 9)
    assert views is not None
    reader = ZxingDecoder().for_crops()
    assert [raw for image in views.images for raw in reader.decode(image)] == []


def test_the_cascade_reads_a_located_but_undecoded_code_from_its_grid(token: str) -> None:
    frame, corners = _code_frame(token, module_px=1.6, blur=1.0)
    result = DecodeCascade().decode(frame)
    assert result.stage == GRID
    assert [s.text for s in result.symbols] == [token]
    xs = [x for x, _ in result.symbols[0].corners]
    ys = [y for _, y in result.symbols[0].corners]
    assert abs(min(xs) - corners[0][0]) < 4 and abs(max(xs) - corners[1][0]) < 4
    assert abs(min(ys) - corners[0][1]) < 4 and abs(max(ys) - corners[2][1]) < 4


def test_flatten_evens_out_light_bands_and_keeps_dark_modules_dark() -> None:
    from pos_app.scanning.crops import flatten

    x = np.arange(320, dtype=np.float32)
    bands = 0.6 + 0.4 * np.cos(2 * np.pi * x / 40)  # moire: bands over the light modules
    image = np.asarray(np.tile(220 * bands, (320, 1)), np.uint8)
    image[100:110, 100:110] = 15  # a dark module
    out = flatten(image, factor=3.0)
    row_in, row_out = image[250, 20:300].astype(float), out[250, 20:300].astype(float)
    assert row_in.min() / row_in.max() < 0.25
    assert row_out.min() / row_out.max() > 0.3  # troughs lifted towards the peaks
    assert int(out[103:107, 103:107].max()) < 60
