from pathlib import Path

from PySide6.QtGui import QImage

from pos_app.demo.manager_screenshots import render_all


def test_screenshot_script_renders_every_screen(qapp: object, tmp_path: Path) -> None:
    render_all(tmp_path)
    names = sorted(p.name for p in tmp_path.glob("manager-*.png"))
    assert names == [
        "manager-chart.png",
        "manager-claimed.png",
        "manager-decision.png",
        "manager-queue-ja.png",
        "manager-queue.png",
        "manager-shift-report.png",
        "manager-signin.png",
    ]
    for name in names:
        image = QImage(str(tmp_path / name))
        assert image.width() > 300 and image.height() > 200, name
