"""Everything ``pos-app doctor`` touches, as one injectable value.

Tests build a :class:`DoctorEnv` with fakes (a loader that has no libzbar, a
camera that fails, a clock in the future, a tiny disk) to make each check fail
on cue; :mod:`pos_app.terminal.doctor.cli` builds the real one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pos_app.terminal.settings.schema import Settings


@dataclass(frozen=True, slots=True)
class QtProbeResult:
    ok: bool
    detail: str
    platform: str = ""
    qt_version: str = ""


@dataclass(frozen=True, slots=True)
class BackendReply:
    """One request to the backend: what came back, or why nothing did."""

    status_code: int | None
    server_time: float | None = None
    error: str = ""
    tls_error: bool = False


@dataclass(frozen=True, slots=True)
class CredentialsInfo:
    """What the terminal knows about its own enrollment, without any secret in it."""

    enrolled: bool
    key_file: Path | None = None
    detail: str = ""
    available: bool = True  # False: this build has no enrollment component


class FrameReader(Protocol):
    def read(self) -> Any: ...

    def close(self) -> None: ...


def probe_write(directory: Path) -> None:
    """Create, write, sync and remove a file: the same steps the database needs."""
    probe = directory / f".doctor-write-test-{os.getpid()}"
    with probe.open("wb") as handle:
        handle.write(b"pos-app doctor\n")
        handle.flush()
        os.fsync(handle.fileno())
    probe.unlink()


def statvfs_free(path: Path) -> int:
    # The data directory may not exist yet: measure the nearest existing parent.
    while not path.exists() and path != path.parent:
        path = path.parent
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def _python_version() -> tuple[int, int, int]:
    return (sys.version_info.major, sys.version_info.minor, sys.version_info.micro)


def _no_qt_probe() -> QtProbeResult:
    return QtProbeResult(ok=False, detail="no Qt probe was wired in")


def _no_backend(url: str) -> BackendReply:
    return BackendReply(status_code=None, error="no backend probe was wired in")


def _not_enrolled(settings: Settings, data_dir: Path) -> CredentialsInfo:
    return CredentialsInfo(enrolled=False, detail="no credentials probe was wired in")


def _no_camera(device: int | str, settings: Settings) -> FrameReader:
    raise OSError("no camera opener was wired in")


@dataclass(frozen=True, slots=True)
class DoctorEnv:
    """Inputs of every check. ``settings`` is ``None`` when the files are invalid
    (``settings_error`` says why); the other checks then use the defaults."""

    settings: Settings | None
    data_dir: Path
    settings_error: str = ""
    settings_sources: Mapping[str, str] = field(default_factory=dict)
    python_version: tuple[int, int, int] = field(default_factory=_python_version)
    version_of: Callable[[str], str | None] = lambda name: None
    decoder_factory: Callable[[str], Any] | None = None
    qr_image: Callable[[str], Any] | None = None
    qt_probe: Callable[[], QtProbeResult] = _no_qt_probe
    open_camera: Callable[[int | str, Settings], FrameReader] = _no_camera
    write_probe: Callable[[Path], None] = probe_write
    free_bytes: Callable[[Path], int] = statvfs_free
    file_mode: Callable[[Path], int] = lambda path: path.stat().st_mode & 0o777
    now: Callable[[], float] = lambda: 0.0
    backend: Callable[[str], BackendReply] = _no_backend
    credentials: Callable[[Settings, Path], CredentialsInfo] = _not_enrolled
    # (problems, fix): every path in the data directory the till's account cannot use
    # or other accounts can read, and the one command that repairs them all.
    ownership: Callable[[Path], tuple[list[str], str]] = lambda path: ([], "")
    printer: Callable[[str], Any] | None = None  # None: the real printer at that address
    camera_frames: int = 5

    @property
    def effective(self) -> Settings:
        return self.settings if self.settings is not None else Settings()
