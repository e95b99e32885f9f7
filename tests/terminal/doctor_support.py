"""Fakes shared by the doctor tests: a healthy DoctorEnv that each test breaks one piece of."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.paytoken.trust_list import key_entry, sign_trust_list
from pos_app.scanning.symbols import RawSymbol, Symbology
from pos_app.terminal.doctor.checks import DECODER_SAMPLE
from pos_app.terminal.doctor.env import BackendReply, CredentialsInfo, DoctorEnv, QtProbeResult
from pos_app.terminal.settings.schema import (
    BackendSettings,
    ReceiptSettings,
    ScannerSettings,
    Settings,
)
from pos_app.terminal.store.db import open_store

NOW = 1_795_000_000.0
GIB = 1024**3


class FakeDecoder:
    def __init__(self, name: str, *, reason: str | None = None, reads: bool = True) -> None:
        self.name = name
        self.unavailable_reason = reason
        self._reads = reads

    def decode(self, gray: Any) -> list[RawSymbol]:
        if not self._reads:
            return []
        text = DECODER_SAMPLE
        corners = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
        return [RawSymbol(Symbology.QR, text.encode(), text, corners)]


class FakeCamera:
    def __init__(self, frames: list[Any], *, fail_at: int | None = None) -> None:
        self.frames = frames
        self.fail_at = fail_at
        self.reads = 0
        self.closed = False

    def read(self) -> Any:
        if self.fail_at is not None and self.reads >= self.fail_at:
            raise OSError("camera stopped sending pictures")
        frame = self.frames[self.reads % len(self.frames)]
        self.reads += 1
        return frame

    def close(self) -> None:
        self.closed = True


def settings(**sections: Any) -> Settings:
    base = Settings(
        backend=BackendSettings(url="https://backend.example"),
        scanner=ScannerSettings(camera="0"),
        receipt=ReceiptSettings(issuer_name="Store Co.", registration_number="T7000012050002"),
    )
    return dataclasses.replace(base, **sections)


def healthy_env(tmp_path: Path, **overrides: Any) -> DoctorEnv:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    key = data / "terminal_key.pem"
    key.write_text("not a real key\n")
    key.chmod(0o600)
    camera = FakeCamera([np.zeros((720, 1280, 3), np.uint8)])
    base: dict[str, Any] = {
        "settings": settings(),
        "data_dir": data,
        "version_of": lambda dist: "1.0",
        "python_version": (3, 11, 7),
        "decoder_factory": FakeDecoder,
        "qr_image": lambda text: np.zeros((10, 10), np.uint8),
        "qt_probe": lambda: QtProbeResult(True, "", platform="offscreen", qt_version="6.8.0"),
        "open_camera": lambda device, s: camera,
        "write_probe": lambda path: None,
        "free_bytes": lambda path: 50 * GIB,
        "now": lambda: NOW,
        "backend": lambda url: BackendReply(status_code=200, server_time=NOW),
        "credentials": lambda s, d: CredentialsInfo(True, key_file=key, detail="enrolled"),
    }
    base.update(overrides)
    return DoctorEnv(**base)


def store_trust_list(data_dir: Path, *, issued_at: int, next_update: int) -> None:
    root, issuer = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    entry = key_entry(
        issuer.public_key(),
        issue_not_before=issued_at - 10,
        issue_not_after=issued_at + 10**6,
        verify_until=issued_at + 10**6,
    )
    payload = {"seq": 7, "issued_at": issued_at, "next_update": next_update, "keys": [entry]}
    store = open_store(data_dir)
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO kv (key, value) VALUES ('trust_list.envelope', ?)",
            (sign_trust_list(root, payload),),
        )
    store.close()
