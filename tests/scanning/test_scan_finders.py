"""Locating a QR code by its three finder patterns (for codes no decoder sees)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import segno

from pos_app.scanning import cascade as cascade_module
from pos_app.scanning import finders, grid
from pos_app.scanning.cascade import GRID_DEBLUR, DecodeCascade, _FrameRun, _View
from pos_app.scanning.crops import IDENTITY
from pos_app.scanning.synthetic import render_code

QUIET = 4  # render_code's quiet zone, modules


def _turned_code(text: str, *, module_px: int, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """A code turned by ``degrees`` on a mid-grey picture, and its outer
    corners there (top-left, top-right, bottom-right, bottom-left)."""
    code = render_code(text, module_px=module_px)
    side = code.shape[0]
    canvas = np.full((side + 200, side + 200), 128, np.uint8)
    canvas[100 : 100 + side, 100 : 100 + side] = code
    centre = (canvas.shape[1] / 2, canvas.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    turned = cv2.warpAffine(canvas, matrix, canvas.shape[::-1], borderValue=128)
    q = 100 + QUIET * module_px
    inner = side - 2 * QUIET * module_px
    corners = np.array(
        [[q, q, 1], [q + inner, q, 1], [q + inner, q + inner, 1], [q, q + inner, 1]], np.float64
    )
    return turned, corners @ matrix.T


@pytest.mark.parametrize("degrees", [0.0, 17.0, -35.0])
def test_three_finders_give_the_codes_outline_and_version(token: str, degrees: float) -> None:
    image, truth = _turned_code(token, module_px=4, degrees=degrees)
    located = finders.locate(image)
    assert located is not None
    size = len(segno.make_qr(token, error="m", boost_error=False).matrix)
    assert grid.dimension(located.versions[0]) == size
    corners = np.array(located.corners(located.versions[0]))
    # Within a module of the truth at every corner, in the code's own order.
    assert np.abs(corners - truth).max() < 4.0


def test_the_module_size_survives_dark_runs_widened_by_blur_and_threshold(token: str) -> None:
    image, _ = _turned_code(token, module_px=4, degrees=10.0)
    blurred = cv2.GaussianBlur(image, (0, 0), 1.6)
    eroded = np.asarray(cv2.erode(blurred, np.ones((2, 2), np.uint8)), np.uint8)  # dark grows
    located = finders.locate(eroded)
    assert located is not None
    assert located.versions[0] == finders.locate(image).versions[0]  # type: ignore[union-attr]


def test_no_finders_no_code() -> None:
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, (300, 300)).astype(np.uint8)
    stripes = np.tile(np.repeat(np.array([0, 255], np.uint8), 6), (300, 25))[:, :300]
    assert finders.locate(np.full((300, 300), 200, np.uint8)) is None
    assert finders.locate(stripes) is None
    assert finders.locate(noise) is None
    assert finders.locate(np.zeros((10, 10), np.uint8)) is None


def test_a_view_no_decoder_saw_a_code_in_is_read_through_its_finders(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cascade's path: finders -> outline -> grid, mapped through the view."""
    image, truth = _turned_code(token, module_px=4, degrees=12.0)
    cascade = DecodeCascade()
    run = _FrameRun(cascade, np.full((480, 640), 128, np.uint8))
    shift = np.array([[1.0, 0.0, 30.0], [0.0, 1.0, 40.0]])  # view pixels -> frame pixels
    run.find_finders(_View("region-deblur", image, shift))
    symbols = run.confirmed()
    assert [s.text for s in symbols] == [token]
    # Read through the grid of a deblurred view: the code moved.
    assert run.first_stage == GRID_DEBLUR
    assert symbols[0].moving
    corners = np.array(symbols[0].corners)
    assert np.abs(corners.mean(axis=0) - (truth.mean(axis=0) + np.array([30.0, 40.0]))).max() < 4.0
    # Capped per frame: a further view is not searched.
    calls: list[int] = []
    monkeypatch.setattr(cascade_module, "locate_finders", lambda img: calls.append(1))
    for _ in range(3):
        run.find_finders(_View("region-deblur", image, IDENTITY))
    assert len(calls) == cascade_module._MAX_FINDER_TRIES - 1
