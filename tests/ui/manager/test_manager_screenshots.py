"""The manager screenshots (docs/screenshots/manager-*.png): every screen rendered, and
the pixels show what the file name promises, not an empty or half-built window."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from pos_app.demo.manager_screenshots import render_all
from pos_app.ui.manager.chart import BAR

NAMES = [
    "manager-chart.png",
    "manager-claimed.png",
    "manager-decision.png",
    "manager-queue-ja.png",
    "manager-queue.png",
    "manager-shift-report.png",
    "manager-signin.png",
]


def pixels(path: Path) -> np.ndarray:
    """The image as a height x width x 3 array of RGB bytes."""
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull(), path
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def share_of(rgb: np.ndarray, color: tuple[int, int, int], tolerance: int = 12) -> float:
    near = np.abs(rgb.astype(int) - np.array(color)).max(axis=2) <= tolerance
    return float(near.mean())


def differing(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 24).mean())


@pytest.fixture(scope="module")
def shots(qapp: object, tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    out = tmp_path_factory.mktemp("screenshots")
    render_all(out)
    assert sorted(p.name for p in out.glob("manager-*.png")) == NAMES
    return {name: pixels(out / name) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_each_screen_is_a_drawn_window_with_text(shots: dict[str, np.ndarray], name: str) -> None:
    rgb = shots[name]
    height, width, _ = rgb.shape
    assert width > 300 and height > 200
    colors, counts = np.unique(rgb.reshape(-1, 3), axis=0, return_counts=True)
    # Anti-aliased text and widgets give many shades; one colour is never the whole picture.
    assert len(colors) > 40, f"{name}: {len(colors)} colours, an empty window?"
    assert counts.max() / counts.sum() < 0.99, f"{name}: one colour covers the picture"
    luminance = rgb.astype(float) @ np.array([0.299, 0.587, 0.114])
    dark = float((luminance < 110).mean())
    assert 0.002 < dark < 0.5, f"{name}: {dark:.2%} dark pixels, no text drawn?"


def test_the_chart_draws_its_bars(shots: dict[str, np.ndarray]) -> None:
    bar = (BAR.red(), BAR.green(), BAR.blue())
    assert share_of(shots["manager-chart.png"], bar) > 0.002
    assert share_of(shots["manager-queue.png"], bar) < share_of(shots["manager-chart.png"], bar)


def test_screens_differ_where_their_content_differs(shots: dict[str, np.ndarray]) -> None:
    # Japanese and English queues: same layout, other text.
    assert 0.005 < differing(shots["manager-queue.png"], shots["manager-queue-ja.png"]) < 0.6
    for other in ("manager-shift-report.png", "manager-chart.png", "manager-claimed.png"):
        assert differing(shots["manager-queue.png"], shots[other]) > 0.005, other
