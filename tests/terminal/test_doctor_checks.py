"""Doctor: every check passes on a healthy terminal and fails on cue."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from pos_app.scanning.decoders import PyzbarDecoder
from pos_app.scanning.errors import CameraNotFound
from pos_app.terminal.doctor.checks import (
    camera_device,
    check_camera,
    check_data_dir,
    check_database,
    check_decoders,
    check_disk,
    check_qt,
    check_settings,
    check_versions,
)
from pos_app.terminal.doctor.env import (
    BackendReply,
    DoctorEnv,
    QtProbeResult,
    probe_write,
    statvfs_free,
)
from pos_app.terminal.doctor.probes import CHECKS, make_decoder, qr_image, run_qt_probe, version_of
from pos_app.terminal.doctor.runner import (
    Check,
    Finding,
    Status,
    exit_code,
    render_json,
    render_table,
    run_checks,
)
from pos_app.terminal.settings.schema import ScannerSettings, Settings
from pos_app.terminal.store.db import DB_NAME, open_store
from pos_app.terminal.store.migrations import LATEST_VERSION
from tests.terminal.doctor_support import (
    GIB,
    NOW,
    FakeCamera,
    FakeDecoder,
    healthy_env,
    settings,
    store_trust_list,
)


def status(finding: Finding) -> Status:
    return finding.status


# --- the runner and its output ---------------------------------------------------------


def test_a_healthy_terminal_passes_every_check(tmp_path: Path) -> None:
    open_store(tmp_path / "data").close()
    env = healthy_env(tmp_path)
    store_trust_list(env.data_dir, issued_at=int(NOW) - 3600, next_update=int(NOW) + 3600)
    findings = run_checks(CHECKS, env, offline=False)
    assert {f.name: f.status for f in findings} == {c.name: Status.OK for c in CHECKS}
    assert exit_code(findings) == 0


def test_offline_skips_network_checks_instead_of_passing_them(tmp_path: Path) -> None:
    def unreachable(url: str) -> BackendReply:
        raise AssertionError("offline doctor must not touch the network")

    findings = run_checks(CHECKS, healthy_env(tmp_path, backend=unreachable), offline=True)
    skipped = {f.name for f in findings if f.status is Status.SKIP}
    assert skipped == {"backend", "clock"}


def test_a_crashing_check_is_a_failure_and_the_others_still_run(tmp_path: Path) -> None:
    def broken(env: DoctorEnv) -> Finding:
        raise RuntimeError("probe bug")

    checks = (Check("broken", broken), *CHECKS[:1])
    findings = run_checks(checks, healthy_env(tmp_path), offline=False)
    assert findings[0].status is Status.FAIL and "RuntimeError: probe bug" in findings[0].detail
    assert findings[1].status is Status.OK
    assert exit_code(findings) == 1


def test_warnings_alone_do_not_fail() -> None:
    assert exit_code([Finding("a", Status.WARN, "x", "y"), Finding("b", Status.SKIP, "z")]) == 0


def test_table_is_aligned_and_shows_fixes_only_for_problems() -> None:
    findings = [
        Finding("versions", Status.OK, "fine", "never shown"),
        Finding("db", Status.FAIL, "damaged", "move it aside"),
    ]
    lines = render_table(findings).splitlines()
    assert lines[0] == "OK    versions  fine"
    assert lines[1] == "FAIL  db        damaged"
    assert lines[2] == "                fix: move it aside"
    assert "never shown" not in render_table(findings)
    assert lines[-1] == "1 OK, 1 FAIL"


def test_json_output_is_machine_readable() -> None:
    doc = json.loads(
        render_json([Finding("db", Status.FAIL, "damaged", "fix")], version="9.9", offline=True)
    )
    assert doc == {
        "version": "9.9",
        "offline": True,
        "ok": False,
        "findings": [{"name": "db", "status": "FAIL", "detail": "damaged", "fix": "fix"}],
    }


# --- versions ---------------------------------------------------------------------------


def test_versions_ok_lists_python_and_libraries(tmp_path: Path) -> None:
    finding = check_versions(healthy_env(tmp_path))
    assert finding.status is Status.OK
    assert "Python 3.11.7" in finding.detail and "zxing-cpp 1.0" in finding.detail


def test_versions_fail_on_old_python(tmp_path: Path) -> None:
    finding = check_versions(healthy_env(tmp_path, python_version=(3, 10, 12)))
    assert finding.status is Status.FAIL and "3.10.12 is too old" in finding.detail


def test_versions_fail_on_a_missing_library(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, version_of=lambda d: None if d == "pyzbar" else "1.0")
    finding = check_versions(env)
    assert finding.status is Status.FAIL and "missing: pyzbar" in finding.detail


def test_real_versions_are_found_in_this_environment() -> None:
    assert version_of("numpy") and version_of("zxing-cpp")
    assert version_of("no-such-distribution-here") is None


# --- decoders ---------------------------------------------------------------------------


def test_real_decoders_read_the_generated_qr_code(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, decoder_factory=make_decoder, qr_image=qr_image)
    finding = check_decoders(env)
    assert finding.status is Status.OK, finding.detail
    assert "zxing, zxing-smooth, pyzbar" in finding.detail


def test_missing_libzbar_fails_with_the_package_to_install(tmp_path: Path) -> None:
    def no_zbar(module: str) -> ModuleType:
        raise ImportError("Unable to find zbar shared library")

    def factory(name: str) -> object:
        return PyzbarDecoder(loader=no_zbar) if name == "pyzbar" else make_decoder(name)

    env = healthy_env(tmp_path, decoder_factory=factory, qr_image=qr_image)
    finding = check_decoders(env)
    assert finding.status is Status.FAIL
    assert "pyzbar needs the system library libzbar0" in finding.detail
    assert "apt-get install libzbar0" in finding.fix


def test_a_decoder_that_loads_but_cannot_read_fails(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, decoder_factory=lambda n: FakeDecoder(n, reads=n != "zxing"))
    finding = check_decoders(env)
    assert finding.status is Status.FAIL and "zxing: loaded but did not read" in finding.detail


def test_missing_scanning_component_is_a_warning(tmp_path: Path) -> None:
    def absent(name: str) -> object:
        raise ImportError("No module named 'pos_app.scanning'")

    assert check_decoders(healthy_env(tmp_path, decoder_factory=absent)).status is Status.WARN
    finding = check_decoders(healthy_env(tmp_path, decoder_factory=None))
    assert finding.status is Status.WARN and "not available in this build" in finding.detail


# --- Qt platform plugin -----------------------------------------------------------------


def test_qt_probe_failure_is_reported_with_its_reason(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, qt_probe=lambda: QtProbeResult(False, "no xcb"))
    finding = check_qt(env)
    assert finding.status is Status.FAIL and finding.detail == "no xcb"
    assert "QT_QPA_PLATFORM" in finding.fix


def test_qt_without_a_display_says_where_to_run_doctor(tmp_path: Path) -> None:
    detail = "Qt could not start (exit -6): qt.qpa.xcb: could not connect to display"
    finding = check_qt(healthy_env(tmp_path, qt_probe=lambda: QtProbeResult(False, detail)))
    assert finding.status is Status.FAIL and "desktop session" in finding.fix


def test_real_qt_probe_starts_the_offscreen_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    result = run_qt_probe()
    assert result.ok and result.platform == "offscreen" and result.qt_version


def test_real_qt_probe_survives_a_plugin_that_aborts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Qt aborts the process when the platform plugin cannot load; doctor must not die with it.
    monkeypatch.setenv("QT_QPA_PLATFORM", "no-such-plugin")
    result = run_qt_probe()
    assert not result.ok
    assert 'Could not find the Qt platform plugin "no-such-plugin"' in result.detail


def test_qt_probe_that_hangs_is_cut_off() -> None:
    def hangs(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        assert kwargs["timeout"] == 7
        raise subprocess.TimeoutExpired(command, 7)

    result = run_qt_probe(timeout_s=7, run=hangs)
    assert not result.ok and "did not start within 7 s" in result.detail


def test_qt_probe_reports_pyside_missing() -> None:
    def replies(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        out = '{"ok": false, "detail": "PySide6 cannot be imported (x)"}\n'
        return subprocess.CompletedProcess(command, 0, out, "")

    assert run_qt_probe(run=replies) == QtProbeResult(False, "PySide6 cannot be imported (x)")


# --- camera ------------------------------------------------------------------------------


def test_camera_that_cannot_open_fails_with_the_scanning_message(tmp_path: Path) -> None:
    def missing(device: int | str, s: Settings) -> FakeCamera:
        raise CameraNotFound("no camera at 0; check the cable or the camera setting")

    finding = check_camera(healthy_env(tmp_path, open_camera=missing))
    assert finding.status is Status.FAIL and "check the cable" in finding.detail
    assert "video" in finding.fix


def test_camera_that_stops_delivering_fails_and_is_closed(tmp_path: Path) -> None:
    camera = FakeCamera([np.zeros((4, 4, 3), np.uint8)], fail_at=2)
    finding = check_camera(healthy_env(tmp_path, open_camera=lambda d, s: camera))
    assert finding.status is Status.FAIL and "stopped sending pictures" in finding.detail
    assert camera.closed


def test_camera_with_empty_frames_fails(tmp_path: Path) -> None:
    camera = FakeCamera([np.zeros((0, 0, 3), np.uint8)])
    finding = check_camera(healthy_env(tmp_path, open_camera=lambda d, s: camera))
    assert finding.status is Status.FAIL and "empty frames" in finding.detail


def test_camera_delivering_frames_passes(tmp_path: Path) -> None:
    opened: list[int | str] = []
    camera = FakeCamera([np.zeros((720, 1280, 3), np.uint8)])

    def opener(device: int | str, s: Settings) -> FakeCamera:
        opened.append(device)
        return camera

    finding = check_camera(healthy_env(tmp_path, open_camera=opener))
    assert finding.status is Status.OK and "5 frames of 1280x720" in finding.detail
    assert opened == [0] and camera.reads == 5 and camera.closed


def test_camera_disabled_by_configuration_is_not_opened(tmp_path: Path) -> None:
    def never(device: int | str, s: Settings) -> FakeCamera:
        raise AssertionError("must not open")

    env = healthy_env(
        tmp_path, settings=settings(scanner=ScannerSettings(camera="none")), open_camera=never
    )
    assert check_camera(env).status is Status.OK


@pytest.mark.parametrize(
    ("setting", "device"), [("auto", 0), ("2", 2), ("/dev/video4", "/dev/video4"), ("none", None)]
)
def test_camera_setting_maps_to_a_device(setting: str, device: int | str | None) -> None:
    assert camera_device(setting) == device


# --- settings ---------------------------------------------------------------------------


def test_invalid_settings_fail_and_name_the_file(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, settings=None, settings_error="/etc/x.toml: [ui] theme = 'x'")
    finding = check_settings(env)
    assert finding.status is Status.FAIL and "/etc/x.toml" in finding.detail
    # The other checks go on with the defaults rather than crash.
    assert env.effective == Settings()


def test_valid_settings_count_what_was_changed(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, settings_sources={"ui.theme": "/etc/pos-app/config.toml"})
    finding = check_settings(env)
    assert finding.status is Status.OK and "1 setting(s) changed" in finding.detail


# --- data directory and disk -------------------------------------------------------------


def test_real_write_probe_passes_on_a_writable_directory(tmp_path: Path) -> None:
    finding = check_data_dir(healthy_env(tmp_path, write_probe=probe_write))
    assert finding.status is Status.OK
    assert list((tmp_path / "data").iterdir()) == [tmp_path / "data" / "terminal_key.pem"]


def test_unwritable_data_dir_fails(tmp_path: Path) -> None:
    def read_only(path: Path) -> None:
        raise PermissionError(13, "Permission denied")

    finding = check_data_dir(healthy_env(tmp_path, write_probe=read_only))
    assert finding.status is Status.FAIL and "not writable: Permission denied" in finding.detail


def test_data_dir_that_is_a_file_fails(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    env = healthy_env(tmp_path, data_dir=tmp_path / "file", write_probe=probe_write)
    assert check_data_dir(env).status is Status.FAIL


def test_data_dir_not_created_yet_is_a_warning(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, data_dir=tmp_path / "later")
    assert check_data_dir(env).status is Status.WARN


@pytest.mark.parametrize(
    ("free", "expected"),
    [(50 * 1024**2, Status.FAIL), (500 * 1024**2, Status.WARN), (5 * GIB, Status.OK)],
)
def test_disk_space_thresholds(tmp_path: Path, free: int, expected: Status) -> None:
    assert check_disk(healthy_env(tmp_path, free_bytes=lambda p: free)).status is expected


def test_real_free_space_of_a_directory_not_created_yet(tmp_path: Path) -> None:
    assert statvfs_free(tmp_path / "a" / "b") > 0


# --- database ---------------------------------------------------------------------------


def test_current_database_passes(tmp_path: Path) -> None:
    open_store(tmp_path / "data").close()
    finding = check_database(healthy_env(tmp_path))
    assert finding.status is Status.OK
    assert f"schema version {LATEST_VERSION}" in finding.detail


def test_corrupt_database_fails_and_says_to_keep_the_files(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / DB_NAME).write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    finding = check_database(healthy_env(tmp_path))
    assert finding.status is Status.FAIL and "damaged" in finding.detail
    assert "keep them" in finding.fix


def test_database_with_damaged_pages_fails(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO kv (key, value) VALUES (?, ?)", [(f"k{i}", b"v" * 500) for i in range(400)]
        )
    store.query("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = tmp_path / "data" / DB_NAME
    data = bytearray(path.read_bytes())
    data[4096 * 3 : 4096 * 3 + 2000] = b"\x13" * 2000  # scribble over a b-tree page
    path.write_bytes(bytes(data))
    assert check_database(healthy_env(tmp_path)).status is Status.FAIL


def test_database_newer_than_the_app_fails(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    conn = sqlite3.connect(tmp_path / "data" / DB_NAME)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    finding = check_database(healthy_env(tmp_path))
    assert finding.status is Status.FAIL and "newer than this pos-app" in finding.detail


def test_older_database_is_a_warning_and_is_not_migrated_by_doctor(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / DB_NAME
    sqlite3.connect(path).execute("PRAGMA user_version = 1").connection.close()
    assert check_database(healthy_env(tmp_path)).status is Status.WARN
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1


def test_missing_database_is_a_warning(tmp_path: Path) -> None:
    assert check_database(healthy_env(tmp_path)).status is Status.WARN
