"""Doctor checks of this machine: software, decoders, Qt, camera, settings, disk, database."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from pos_app.terminal.doctor.env import DoctorEnv
from pos_app.terminal.doctor.runner import Finding, fail, ok, unavailable, warn
from pos_app.terminal.store.migrations import LATEST_VERSION

MIN_PYTHON = (3, 11)
# Distribution name -> label; all are hard requirements of the terminal.
LIBRARIES: tuple[tuple[str, str], ...] = (
    ("numpy", "numpy"),
    ("opencv-python-headless", "OpenCV"),
    ("zxing-cpp", "zxing-cpp"),
    ("pyzbar", "pyzbar"),
    ("cryptography", "cryptography"),
    ("cbor2", "cbor2"),
    ("httpx", "httpx"),
    ("PySide6-Essentials", "PySide6"),
)
DECODER_SAMPLE = "PT1:DOCTOR-SELF-TEST"
DISK_FAIL_BYTES = 200 * 1024 * 1024
DISK_WARN_BYTES = 1024 * 1024 * 1024
REINSTALL = "reinstall the package: sudo apt-get install --reinstall pos-app"


def check_versions(env: DoctorEnv) -> Finding:
    name = "versions"
    python = ".".join(map(str, env.python_version))
    found = {label: env.version_of(dist) for dist, label in LIBRARIES}
    shown = ", ".join(f"{label} {v}" for label, v in found.items() if v)
    if env.python_version[:2] < MIN_PYTHON:
        return fail(name, f"Python {python} is too old (3.11 or newer needed)", REINSTALL)
    missing = [label for label, v in found.items() if not v]
    if missing:
        return fail(name, f"Python {python}; missing: {', '.join(missing)}", REINSTALL)
    return ok(name, f"Python {python}, {shown}")


def check_decoders(env: DoctorEnv) -> Finding:
    """Each configured decoder must load *and* read a QR code made here."""
    name = "decoders"
    if env.decoder_factory is None or env.qr_image is None:
        return unavailable(name, "the scanning component")
    image = env.qr_image(DECODER_SAMPLE)
    good, problems = [], []
    for decoder_name in env.effective.scanner.decoders:
        try:
            decoder = env.decoder_factory(decoder_name)
        except ImportError:
            return unavailable(name, "the scanning component")
        if decoder.unavailable_reason:
            problems.append(f"{decoder_name}: {decoder.unavailable_reason}")
            continue
        texts = [symbol.text for symbol in decoder.decode(image)]
        if DECODER_SAMPLE in texts:
            good.append(decoder_name)
        else:
            problems.append(f"{decoder_name}: loaded but did not read a test QR code ({texts})")
    if problems:
        fix = "install libzbar0 (sudo apt-get install libzbar0), or " + REINSTALL
        return fail(name, "; ".join(problems), fix)
    return ok(name, f"{', '.join(good)} read a test QR code")


def check_qt(env: DoctorEnv) -> Finding:
    name = "qt-platform"
    result = env.qt_probe()
    if not result.ok:
        fix = (
            "install the display libraries the package depends on "
            "(sudo apt-get install --reinstall pos-app), or set QT_QPA_PLATFORM "
            "(xcb on X11, wayland, offscreen for tests)"
        )
        if "could not connect to display" in result.detail:
            # Qt then also blames xcb-cursor, which is a red herring over SSH.
            fix = "no desktop here: run doctor in the till's desktop session (or over SSH "
            fix += "with QT_QPA_PLATFORM=offscreen to check everything else)"
        return fail(name, result.detail, fix)
    return ok(name, f"Qt {result.qt_version} started with the '{result.platform}' platform plugin")


def camera_device(setting: str) -> int | str | None:
    """``auto`` is the first camera, digits an index, anything else a path; ``none`` is None."""
    if setting == "none":
        return None
    if setting == "auto":
        return 0
    return int(setting) if setting.isdigit() else setting


def check_camera(env: DoctorEnv) -> Finding:
    name = "camera"
    device = camera_device(env.effective.scanner.camera)
    if device is None:
        return ok(name, "disabled ([scanner] camera = none): scanner input only")
    fix = (
        "plug the camera in, close other programs using it, add the user to the 'video' "
        "group, or set [scanner] camera in /etc/pos-app/config.toml (see docs/INSTALL.md)"
    )
    try:
        camera = env.open_camera(device, env.effective)
    except Exception as exc:  # every camera failure is a finding, whatever its type
        return fail(name, f"camera {device!r} cannot be opened: {_message(exc)}", fix)
    report = getattr(camera, "settings_report", ())
    try:
        shape = None
        for _ in range(env.camera_frames):
            shape = _frame_shape(camera.read())
    except Exception as exc:
        return fail(name, f"camera {device!r} opened but stopped: {_message(exc)}", fix)
    finally:
        camera.close()
    if not shape:
        return fail(name, f"camera {device!r} delivers empty frames", fix)
    return _camera_settings_finding(
        name, f"camera {device!r} delivered {env.camera_frames} frames of {shape}", report
    )


def _camera_settings_finding(name: str, detail: str, report: tuple[Any, ...]) -> Finding:
    """Exposure and focus for phone screens ([scanner]): what the camera did with each."""
    if not report:
        return ok(name, detail)
    detail += "; " + ", ".join(setting.describe() for setting in report)
    if all(setting.applied for setting in report):
        return ok(name, detail)
    fix = "this camera ignores the setting: set it to 'auto'/-1 in [scanner], or use a UVC "
    fix += "camera with manual exposure and focus (docs/SCANNING.md, camera settings)"
    return warn(name, detail, fix)


def _frame_shape(frame: object) -> str:
    image = getattr(frame, "image", frame)
    shape: tuple[int, ...] = tuple(getattr(image, "shape", ()))
    return f"{shape[1]}x{shape[0]}" if len(shape) >= 2 and shape[0] and shape[1] else ""


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", "") or exc) or type(exc).__name__


def check_settings(env: DoctorEnv) -> Finding:
    name = "settings"
    if env.settings is None:
        return fail(name, env.settings_error, "correct the named file and key, then run again")
    changed = sorted(k for k, source in env.settings_sources.items() if source != "default")
    return ok(name, f"valid; {len(changed)} setting(s) changed from the defaults")


def check_data_dir(env: DoctorEnv) -> Finding:
    name = "data-dir"
    path = env.data_dir
    fix = (
        f"create {path} owned by the user running pos-app, mode 0700 "
        "(the package creates /var/lib/pos-app), or set [paths] data_dir"
    )
    if not path.exists():
        return warn(name, f"{path} does not exist yet; pos-app creates it at first start", fix)
    if not path.is_dir():
        return fail(name, f"{path} is not a directory", fix)
    found, owner_fix = env.ownership(path)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        return fail(name, found[0] + more, owner_fix)
    try:
        env.write_probe(path)
    except OSError as exc:
        return fail(name, f"{path} is not writable: {exc.strerror or exc}", owner_fix or fix)
    return ok(name, f"{path} is writable, every file in it private to the till's account")


def check_disk(env: DoctorEnv) -> Finding:
    name = "disk-space"
    free = env.free_bytes(env.data_dir)
    shown = f"{free / 1024 / 1024:,.0f} MB free for {env.data_dir}"
    fix = "free disk space (old logs, downloads); sales stop when the disk is full"
    if free < DISK_FAIL_BYTES:
        return fail(name, shown, fix)
    if free < DISK_WARN_BYTES:
        return warn(name, shown, fix)
    return ok(name, shown)


def check_database(env: DoctorEnv) -> Finding:
    """Read-only: doctor must never migrate or repair the database it examines."""
    name = "database"
    from pos_app.terminal.store.db import DB_NAME

    path = env.data_dir / DB_NAME
    if not path.exists():
        return warn(name, f"{path} does not exist yet", "start pos-app once; it creates it")
    try:
        result, version = _inspect(path)
    except sqlite3.Error as exc:
        result, version = str(exc), -1
    damaged_fix = (
        "close pos-app, move the file and its -wal/-shm companions aside (keep them: they may "
        "hold unsent sales), start again, and send the moved files to support"
    )
    if result != "ok":
        return fail(name, f"{path} is damaged: {result}", damaged_fix)
    if version > LATEST_VERSION:
        detail = f"schema version {version} is newer than this pos-app ({LATEST_VERSION})"
        return fail(name, detail, "install the newer pos-app release again")
    if version < LATEST_VERSION:
        detail = f"schema version {version}; pos-app upgrades it to {LATEST_VERSION} at start"
        return warn(name, detail, "start pos-app once")
    return ok(name, f"integrity ok, schema version {version}")


def _inspect(path: Path) -> tuple[str, int]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        result = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()
    return result, version
