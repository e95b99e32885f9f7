"""Helpers for the scanning tests: tokens, barcodes, fake clocks and captures.

Imported by the tests as ``scan_testkit`` (conftest.py puts this folder on the
path, because pytest runs with --import-mode=importlib)."""

from __future__ import annotations

import random
import string

import numpy as np

from pos_app.core.gtin import make_gtin

BASE45 = string.digits + string.ascii_uppercase + " $%*+-./:"


def base45(data: bytes) -> str:
    """RFC 9285 encoder, just enough to make realistic PT1 texts."""
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = n % 45, n // 45
        d, e = n % 45, n // 45
        out += [BASE45[c], BASE45[d], BASE45[e]]
    if len(data) % 2:
        n = data[-1]
        out += [BASE45[n % 45], BASE45[n // 45]]
    return "".join(out)


def payment_text(seed: int = 1, size: int = 170) -> str:
    """A PT1 text of the real size (about 258 characters, QR version 9-10 M)."""
    rng = random.Random(seed)
    return "PT1:" + base45(bytes(rng.randrange(256) for _ in range(size)))


EAN13_A = make_gtin("490123456789")  # a JAN code
EAN13_B = make_gtin("450000000001")


class FakeClock:
    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeCapture:
    """Stands in for cv2.VideoCapture; ``script`` says what each read() does.

    Items: an ndarray (a frame), or ``False`` (read fails: disconnect).
    After the script runs out, reads keep returning ``fallback``.
    """

    def __init__(
        self,
        *,
        opened: bool = True,
        script: list[object] | None = None,
        ignores: tuple[int, ...] = (),
    ) -> None:
        self.opened = opened
        self.ignores = set(ignores)  # properties this "camera" accepts and does not apply
        self.script = list(script or [])
        self.fallback: object = np.zeros((48, 64, 3), np.uint8)
        self.settings: dict[int, float] = {}
        self.released = False

    def isOpened(self) -> bool:
        return self.opened

    def read(self) -> tuple[bool, object]:
        item = self.script.pop(0) if self.script else self.fallback
        if item is False:
            return False, None
        return True, item

    def get(self, prop: int) -> float:
        return self.settings.get(prop, 0.0)

    def set(self, prop: int, value: float) -> bool:
        if prop not in self.ignores:
            self.settings[prop] = value
        return True  # like many webcams: "accepted", whether applied or not

    def release(self) -> None:
        self.released = True


class CaptureFactory:
    """Hands out prepared captures in order and records the requests."""

    def __init__(self, captures: list[FakeCapture]) -> None:
        self.captures = list(captures)
        self.calls: list[tuple[object, int]] = []

    def __call__(self, device: int | str, backend: int) -> FakeCapture:
        self.calls.append((device, backend))
        if len(self.captures) > 1:
            return self.captures.pop(0)
        return self.captures[0]
