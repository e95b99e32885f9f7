"""The real I/O behind doctor's checks, and the list of checks in report order.

Everything here touches the machine (subprocesses, the camera, libraries);
:func:`build_env` puts it into a :class:`DoctorEnv`. Optional components are
imported inside the probes, so a build without them reports a WARN instead of
failing to start.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pos_app.terminal.doctor.checks import (
    check_camera,
    check_data_dir,
    check_database,
    check_decoders,
    check_disk,
    check_qt,
    check_settings,
    check_versions,
)
from pos_app.terminal.doctor.checks_net import check_backend, check_clock, http_probe
from pos_app.terminal.doctor.checks_printer import check_printer, check_receipt
from pos_app.terminal.doctor.checks_store import (
    check_audit_chain,
    check_enrollment,
    check_outbox,
    check_trust_list,
    read_credentials,
)
from pos_app.terminal.doctor.env import DoctorEnv, FrameReader, QtProbeResult
from pos_app.terminal.doctor.runner import Check
from pos_app.terminal.settings.schema import Settings

CHECKS: tuple[Check, ...] = (
    Check("versions", check_versions),
    Check("settings", check_settings),
    Check("decoders", check_decoders),
    Check("qt-platform", check_qt),
    Check("camera", check_camera),
    Check("data-dir", check_data_dir),
    Check("disk-space", check_disk),
    Check("database", check_database),
    Check("enrollment", check_enrollment),
    Check("trust-list", check_trust_list),
    Check("outbox", check_outbox),
    Check("audit-chain", check_audit_chain),
    Check("receipt", check_receipt),
    Check("printer", check_printer),
    Check("backend", check_backend, network=True),
    Check("clock", check_clock, network=True),
)
QT_PROBE_MODULE = "pos_app.ui.qt_probe"
QT_PROBE_TIMEOUT_S = 20.0


def version_of(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def qr_image(text: str) -> Any:
    """A clean QR code as a grayscale array (4 px per module, quiet zone included)."""
    import numpy as np
    import segno

    modules = np.array(segno.make_qr(text, error="m").matrix, dtype=np.uint8)
    image = np.where(np.pad(modules, 4) > 0, 0, 255).astype(np.uint8)
    return np.kron(image, np.ones((4, 4), np.uint8)).astype(np.uint8)


def run_qt_probe(
    *,
    timeout_s: float = QT_PROBE_TIMEOUT_S,
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> QtProbeResult:
    """Start Qt in a child process: a broken platform plugin aborts or hangs the
    process that loads it. The frozen executable accepts the same ``-m`` form
    (packaging/entry.py); the terminal layer never imports the UI package."""
    command = [sys.executable, "-m", QT_PROBE_MODULE]
    try:
        done = run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return QtProbeResult(False, f"Qt did not start within {timeout_s:.0f} s (display hung?)")
    except OSError as exc:
        return QtProbeResult(False, f"cannot start the Qt probe: {exc}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return QtProbeResult(False, _qt_error(done.stderr, done.returncode))
    reply = json.loads(lines[-1])
    if not reply.get("ok"):
        return QtProbeResult(False, str(reply.get("detail", "Qt probe failed")))
    return QtProbeResult(
        True, "", platform=str(reply["platform"]), qt_version=str(reply["qt_version"])
    )


def _qt_error(stderr: str, returncode: int) -> str:
    # Qt's own message names the plugin and the missing library; keep its first lines.
    interesting = [line.strip() for line in stderr.splitlines() if line.strip()][:2]
    text = " / ".join(interesting) or "no message"
    return f"Qt could not start (exit {returncode}): {text}"


def open_camera(device: int | str, settings: Settings) -> FrameReader:
    from pos_app.scanning.camera import CameraSource
    from pos_app.terminal.settings.scanner import camera_config

    camera = CameraSource(camera_config(settings, device))
    camera.open()
    return camera


def make_decoder(name: str) -> Any:
    # Imported here, inside the check, so a broken scanning install is a finding.
    from pos_app.scanning.decoders import make_decoder as make

    return make(name)


def build_env(
    settings: Settings | None,
    *,
    data_dir: Path,
    settings_error: str = "",
    sources: Mapping[str, str] | None = None,
) -> DoctorEnv:
    effective = settings or Settings()
    backend = functools.cache(
        functools.partial(
            http_probe,
            connect_timeout_s=effective.backend.connect_timeout_s,
            read_timeout_s=effective.backend.read_timeout_s,
        )
    )
    return DoctorEnv(
        settings=settings,
        data_dir=data_dir,
        settings_error=settings_error,
        settings_sources=dict(sources or {}),
        version_of=version_of,
        decoder_factory=make_decoder,
        qr_image=qr_image,
        qt_probe=run_qt_probe,
        open_camera=open_camera,
        now=time.time,
        backend=backend,
        credentials=read_credentials,
        ownership=functools.partial(data_ownership, effective.paths.owner),
    )


def data_ownership(owner: str, directory: Path) -> tuple[list[str], str]:
    """What ``pos-app setup --owner`` would repair in the data directory (POSIX only)."""
    if sys.platform == "win32":
        return [], ""
    from pos_app.terminal.till_account import (
        DataOwnerError,
        problems,
        setup_command,
        till_account,
    )

    try:
        account = till_account(owner, directory)
    except DataOwnerError as exc:
        return [exc.message], setup_command()
    if account is None:
        return [], ""
    return problems(directory, account), setup_command(account.name)
