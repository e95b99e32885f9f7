"""Receipt printers: where a job goes (``tcp://HOST:PORT``, ``usb://VID:PID``) and whether it can.

Before each job the printer is asked for its state with the real-time status commands every
ESC/POS printer answers (``DLE EOT 2``: cover open; ``DLE EOT 4``: paper end), so a job is not
sent into a printer that would swallow it. A fault is a :class:`PrinterFault` with a kind the
till shows the cashier ("paper out": put in a new roll); the job waits in the queue.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit

from pos_app.core.errors import ConfigError, PosError

STATUS_OFFLINE_CAUSE = b"\x10\x04\x02"  # DLE EOT 2
STATUS_PAPER = b"\x10\x04\x04"  # DLE EOT 4
COVER_OPEN_BIT = 0x04
PAPER_END_BITS = 0x60
PAPER_NEAR_END_BITS = 0x0C


class FaultKind(StrEnum):
    UNREACHABLE = "unreachable"
    COVER_OPEN = "cover_open"
    PAPER_OUT = "paper_out"
    NO_ANSWER = "no_answer"


class PrinterFault(PosError):
    code = "printer_fault"

    def __init__(self, kind: FaultKind, message: str) -> None:
        super().__init__(message, code=f"printer_{kind.value}")
        self.kind = kind


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    paper_low: bool


class Printer(Protocol):
    """One receipt printer; ``send`` raises PrinterFault and leaves nothing half-sent it knew of."""

    description: str

    def status(self) -> PrinterStatus: ...

    def send(self, job: bytes) -> PrinterStatus: ...


@dataclass(frozen=True, slots=True)
class PrinterAddress:
    scheme: str  # "tcp" or "usb"
    host: str = ""
    port: int = 9100
    vendor_id: int = 0
    product_id: int = 0

    def __str__(self) -> str:
        if self.scheme == "tcp":
            return f"tcp://{self.host}:{self.port}"
        return f"usb://{self.vendor_id:04x}:{self.product_id:04x}"


def parse_printer_url(url: str) -> PrinterAddress:
    """``tcp://HOST[:PORT]`` (port 9100 by default) or ``usb://VID:PID`` in hexadecimal."""
    hint = "use tcp://HOST:9100 for a network printer or usb://VID:PID (hex, from lsusb)"
    parts = urlsplit(url.strip())
    if parts.scheme == "tcp" and parts.hostname:
        try:
            port = parts.port or 9100
        except ValueError:
            raise ConfigError(f"printer address {url!r} has a bad port: {hint}") from None
        return PrinterAddress("tcp", host=parts.hostname, port=port)
    if parts.scheme == "usb":
        ids = parts.netloc.split(":")
        try:
            vid, pid = (int(x, 16) for x in ids)
        except ValueError:
            raise ConfigError(f"printer address {url!r} is not usb://VID:PID: {hint}") from None
        return PrinterAddress("usb", vendor_id=vid, product_id=pid)
    raise ConfigError(f"printer address {url!r} is not understood: {hint}")


def _check(cause: bytes, paper: bytes, where: str) -> PrinterStatus:
    if not cause or not paper:
        raise PrinterFault(FaultKind.NO_ANSWER, f"the printer at {where} does not answer status")
    if cause[0] & COVER_OPEN_BIT:
        raise PrinterFault(FaultKind.COVER_OPEN, f"the printer's cover is open ({where}): close it")
    if paper[0] & PAPER_END_BITS == PAPER_END_BITS:
        raise PrinterFault(
            FaultKind.PAPER_OUT, f"the printer is out of paper ({where}): load a roll"
        )
    return PrinterStatus(paper_low=paper[0] & PAPER_NEAR_END_BITS == PAPER_NEAR_END_BITS)


class NetworkPrinter:
    """A printer on raw TCP (port 9100), the way Epson, Star and Bixolon LAN models listen."""

    def __init__(self, host: str, port: int, *, timeout_s: float = 3.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.description = f"tcp://{host}:{port}"

    def _connect(self) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as exc:
            raise PrinterFault(
                FaultKind.UNREACHABLE,
                f"cannot reach the printer at {self.description} ({exc.strerror or exc}): "
                "check its power and cable",
            ) from None

    @staticmethod
    def _ask(sock: socket.socket, query: bytes) -> bytes:
        sock.sendall(query)
        try:
            return sock.recv(1)
        except TimeoutError:
            return b""

    def status(self) -> PrinterStatus:
        with self._connect() as sock:
            return _check(
                self._ask(sock, STATUS_OFFLINE_CAUSE),
                self._ask(sock, STATUS_PAPER),
                self.description,
            )

    def send(self, job: bytes) -> PrinterStatus:
        with self._connect() as sock:
            state = _check(
                self._ask(sock, STATUS_OFFLINE_CAUSE),
                self._ask(sock, STATUS_PAPER),
                self.description,
            )
            try:
                sock.sendall(job)
            except OSError as exc:
                raise PrinterFault(
                    FaultKind.UNREACHABLE,
                    f"the printer at {self.description} dropped the job ({exc})",
                ) from None
            return state


class UsbPrinter:
    """A USB printer through python-escpos (pyusb and libusb); untested here: no device."""

    def __init__(self, vendor_id: int, product_id: int) -> None:
        self.vendor_id, self.product_id = vendor_id, product_id
        self.description = f"usb://{vendor_id:04x}:{product_id:04x}"

    def _open(self) -> Any:  # python-escpos is untyped
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Usb

        try:
            printer = Usb(self.vendor_id, self.product_id, timeout=3000)
            printer.open()
        except (DeviceNotFoundError, OSError, ValueError) as exc:
            raise PrinterFault(
                FaultKind.UNREACHABLE,
                f"no USB printer {self.description} ({exc}): check the cable, and that the till's "
                "account may use it (a udev rule: see docs/INSTALL.md)",
            ) from None
        return printer

    def status(self) -> PrinterStatus:
        printer = self._open()
        try:
            return _check(
                printer.query_status(STATUS_OFFLINE_CAUSE),
                printer.query_status(STATUS_PAPER),
                self.description,
            )
        finally:
            printer.close()

    def send(self, job: bytes) -> PrinterStatus:
        printer = self._open()
        try:
            state = _check(
                printer.query_status(STATUS_OFFLINE_CAUSE),
                printer.query_status(STATUS_PAPER),
                self.description,
            )
            printer._raw(job)
            return state
        finally:
            printer.close()


def open_printer(url: str) -> Printer:
    address = parse_printer_url(url)
    if address.scheme == "tcp":
        return NetworkPrinter(address.host, address.port)
    return UsbPrinter(address.vendor_id, address.product_id)
