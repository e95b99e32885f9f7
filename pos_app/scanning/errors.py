"""Scanning errors, all under :class:`pos_app.core.errors.ScanError`.

    ScanError
    ├── CameraError             camera problems the cashier can act on
    │   ├── CameraNotFound      no such device (unplugged, wrong index or path)
    │   ├── CameraBusy          device exists but cannot be opened or read (in use, permissions)
    │   └── CameraDisconnected  it worked, then stopped delivering frames
    ├── SourceError             video file or image folder unreadable
    └── DecoderUnavailable      a decoder's library is missing (e.g. libzbar0)

Decoder *failures* on a frame are never raised: the cascade counts them.
"""

from __future__ import annotations

from pos_app.core.errors import ScanError


class CameraError(ScanError):
    code = "camera_error"


class CameraNotFound(CameraError):
    code = "camera_not_found"


class CameraBusy(CameraError):
    code = "camera_busy"


class CameraDisconnected(CameraError):
    code = "camera_disconnected"


class SourceError(ScanError):
    code = "source_error"


class DecoderUnavailable(ScanError):
    code = "decoder_unavailable"


__all__ = [
    "CameraBusy",
    "CameraDisconnected",
    "CameraError",
    "CameraNotFound",
    "DecoderUnavailable",
    "ScanError",
    "SourceError",
]
