"""Frame sources: video file, image folder, synthetic, camera with a fake capture."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from pos_app.scanning.camera import CameraSource
from pos_app.scanning.cascade import DecodeCascade
from pos_app.scanning.config import CameraConfig
from pos_app.scanning.errors import (
    CameraBusy,
    CameraDisconnected,
    CameraNotFound,
    SourceError,
)
from pos_app.scanning.sources import ImageFolderSource, VideoFileSource, iter_frames
from pos_app.scanning.synthetic import SyntheticSource, compose
from tests.scanning.scan_testkit import (
    EAN13_A,
    CaptureFactory,
    FakeCapture,
    FakeClock,
    payment_text,
)


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame)
    writer.release()
    return path


def test_video_file_frames_carry_media_time_and_decode(tmp_path: Path) -> None:
    token = payment_text(5)
    blank = np.full((480, 640), 200, np.uint8)
    code = compose([token], module_px=4)
    video = write_video(tmp_path / "clip.avi", [blank, code, code, blank])
    frames = list(iter_frames(VideoFileSource(video)))
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert [f.timestamp for f in frames] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert frames[0].image.shape == (480, 640, 3)
    assert not frames[0].image.flags.writeable
    cascade = DecodeCascade()
    assert [s.text for s in cascade.decode(frames[1].image).symbols] == [token]


def test_video_realtime_pacing_uses_the_injected_clock(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.avi", [np.zeros((48, 64), np.uint8)] * 3)
    clock = FakeClock(0.0)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    list(iter_frames(VideoFileSource(video, realtime=True, clock=clock, sleep=sleep)))
    assert sleeps == pytest.approx([0.1, 0.1])


def test_missing_or_broken_video_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        VideoFileSource(tmp_path / "none.avi").open()
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video")
    with pytest.raises(SourceError) as err:
        VideoFileSource(junk).open()
    assert err.value.code == "video_unreadable"


def test_image_folder_in_name_order_with_repeats_and_skips(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "b.png"), compose([EAN13_A], module_px=2))
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((10, 20), np.uint8))
    (tmp_path / "c.png").write_bytes(b"broken")
    (tmp_path / "notes.txt").write_text("ignored")
    source = ImageFolderSource(tmp_path, repeat=2, frame_interval_s=0.5)
    frames = list(iter_frames(source))
    assert [Path(f.source).name for f in frames] == ["a.png", "a.png", "b.png", "b.png"]
    assert [f.timestamp for f in frames] == [0.0, 0.5, 1.0, 1.5]
    assert [p.name for p in source.skipped] == ["c.png"]
    assert [s.text for s in DecodeCascade().decode(frames[2].image).symbols] == [EAN13_A]


def test_image_folder_missing_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError):
        ImageFolderSource(tmp_path / "nope").open()


def test_synthetic_source_changes_code_when_set_from_another_thread() -> None:
    token_a, token_b = payment_text(6), payment_text(7)
    source = SyntheticSource([token_a], fps=None, frame_interval_s=0.05, max_frames=3)
    source.open()
    cascade = DecodeCascade()
    first = source.read()
    assert first is not None
    assert [s.text for s in cascade.decode(first.image).symbols] == [token_a]
    setter = threading.Thread(target=lambda: setattr(source, "codes", [token_b]))
    setter.start()
    setter.join()
    second = source.read()
    assert second is not None
    assert second.timestamp == pytest.approx(0.05)
    assert [s.text for s in cascade.decode(second.image).symbols] == [token_b]
    source.read()
    assert source.read() is None  # max_frames reached


def test_synthetic_source_takes_a_callable_and_renders_products() -> None:
    shown = [EAN13_A]
    source = SyntheticSource(lambda: shown, fps=None, max_frames=2)
    source.open()
    frame = source.read()
    assert frame is not None
    assert [s.text for s in DecodeCascade().decode(frame.image).symbols] == [EAN13_A]
    shown.clear()
    empty = source.read()
    assert empty is not None
    assert DecodeCascade().decode(empty.image).symbols == ()


def test_synthetic_source_paces_to_its_fps() -> None:
    clock = FakeClock(0.0)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    source = SyntheticSource([], fps=20.0, clock=clock, sleep=sleep, max_frames=3)
    stamps = [f.timestamp for f in iter_frames(source)]
    assert stamps == pytest.approx([0.0, 0.05, 0.1])


# camera ----------------------------------------------------------------------


def frame_of(value: int) -> np.ndarray:
    return np.full((48, 64, 3), value, np.uint8)


def test_camera_applies_hints_and_stamps_frames_with_the_clock() -> None:
    capture = FakeCapture(script=[frame_of(1), frame_of(2)])
    factory = CaptureFactory([capture])
    config = CameraConfig(device="/dev/video7", width=1280, height=720, fps=30)
    camera = CameraSource(config, capture_factory=factory, clock=FakeClock(5.0))
    camera.open()
    assert factory.calls == [("/dev/video7", cv2.CAP_ANY)]
    assert capture.settings[cv2.CAP_PROP_FRAME_WIDTH] == 1280
    assert capture.settings[cv2.CAP_PROP_FRAME_HEIGHT] == 720
    assert cv2.CAP_PROP_EXPOSURE not in capture.settings  # auto exposure left alone
    assert camera.settings_report == ()
    first, second = camera.read(), camera.read()
    assert (first.image[0, 0, 0], second.image[0, 0, 0]) == (1, 2)  # first frame not wasted
    assert (first.timestamp, first.index, second.index) == (5.0, 0, 1)
    camera.close()
    assert capture.released


def test_screen_settings_reach_the_camera_in_its_units_and_are_read_back() -> None:
    capture = FakeCapture()
    config = CameraConfig(backend="v4l2", exposure_ms=8.0, focus=120.0)
    camera = CameraSource(config, capture_factory=CaptureFactory([capture]))
    camera.open()
    assert capture.settings[cv2.CAP_PROP_AUTO_EXPOSURE] == 1.0  # V4L2: manual
    assert capture.settings[cv2.CAP_PROP_EXPOSURE] == 80  # 100 us steps
    assert capture.settings[cv2.CAP_PROP_AUTOFOCUS] == 0.0  # a fixed focus turns it off
    assert capture.settings[cv2.CAP_PROP_FOCUS] == 120.0
    assert [s.describe() for s in camera.settings_report] == [
        "exposure 8 ms: applied",
        "focus 120: applied",
    ]


def test_a_camera_that_ignores_focus_is_reported_not_trusted() -> None:
    capture = FakeCapture(ignores=(cv2.CAP_PROP_FOCUS,))
    config = CameraConfig(backend="dshow", exposure_ms=8.0, focus=120.0)
    camera = CameraSource(config, capture_factory=CaptureFactory([capture]))
    camera.open()
    assert capture.settings[cv2.CAP_PROP_EXPOSURE] == -7  # DirectShow: log2 seconds
    assert capture.settings[cv2.CAP_PROP_AUTO_EXPOSURE] == 0.25
    exposure, focus = camera.settings_report
    assert exposure.applied and not focus.applied
    assert focus.describe() == "focus 120: not supported by this camera (reads back 0)"


def test_camera_index_given_as_text_is_an_index() -> None:
    factory = CaptureFactory([FakeCapture()])
    CameraSource(CameraConfig(device="2", backend="v4l2"), capture_factory=factory).open()
    assert factory.calls == [(2, cv2.CAP_V4L2)]


def test_camera_not_found_when_the_device_does_not_exist() -> None:
    factory = CaptureFactory([FakeCapture(opened=False)])
    camera = CameraSource(capture_factory=factory, probe=lambda device: False)
    with pytest.raises(CameraNotFound, match="no camera"):
        camera.open()


def test_camera_busy_when_the_device_exists_but_will_not_open() -> None:
    factory = CaptureFactory([FakeCapture(opened=False)])
    camera = CameraSource(capture_factory=factory, probe=lambda device: True)
    with pytest.raises(CameraBusy, match="another program"):
        camera.open()


def test_camera_busy_when_it_opens_but_sends_nothing() -> None:
    factory = CaptureFactory([FakeCapture(script=[False])])
    with pytest.raises(CameraBusy):
        CameraSource(capture_factory=factory, probe=lambda device: True).open()


def test_camera_disconnect_mid_stream_then_automatic_reopen() -> None:
    lost = FakeCapture(script=[frame_of(1), frame_of(2), False])
    still_gone = FakeCapture(opened=False)
    back = FakeCapture(script=[frame_of(9)])
    factory = CaptureFactory([lost, still_gone, back])
    camera = CameraSource(capture_factory=factory, probe=lambda device: False)
    camera.open()
    assert camera.read().image[0, 0, 0] == 1
    assert camera.read().image[0, 0, 0] == 2
    with pytest.raises(CameraDisconnected):
        camera.read()
    assert lost.released
    with pytest.raises(CameraNotFound):
        camera.read()  # reopen attempt: still unplugged
    frame = camera.read()  # reopen attempt: back
    assert frame.image[0, 0, 0] == 9
    assert camera.reopen_count == 1
    assert len(factory.calls) == 3


def test_reading_a_closed_camera_is_an_error_not_a_reopen() -> None:
    camera = CameraSource(capture_factory=CaptureFactory([FakeCapture()]))
    with pytest.raises(SourceError, match="not open"):
        camera.read()


def test_unknown_backend_is_rejected() -> None:
    with pytest.raises(ValueError, match="backend"):
        CameraSource(CameraConfig(backend="gstreamer-magic"))
