"""A raw-TCP ESC/POS printer on loopback for tests: records jobs, answers DLE EOT status queries.

It reads the byte stream the way a printer does: a ``DLE EOT n`` outside image data is a
real-time status request answered with one byte at once; ``GS v 0`` raster data is skipped by
its declared size so image bytes are never taken for a command. Each connection's bytes,
status queries removed, are one job.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

DLE_EOT = b"\x10\x04"
RASTER = b"\x1dv0"


@dataclass
class FakePrinter:
    cover_open: bool = False
    paper_out: bool = False
    paper_low: bool = False
    jobs: list[bytes] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        # shutdown wakes the accept() blocked in the server thread; close alone may not, and
        # the kernel would go on accepting connections for a "closed" printer.
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._thread.join(timeout=5)

    def _status(self, n: int) -> bytes:
        self.queries.append(n)
        if n == 2:
            return bytes([0x12 | (0x04 if self.cover_open else 0)])
        if n == 4:
            return bytes([0x12 | (0x60 if self.paper_out else 0) | (0x0C if self.paper_low else 0)])
        return bytes([0x12])

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        pending, job, skip = b"", bytearray(), 0
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            while pending:
                if skip:
                    take = min(skip, len(pending))
                    job += pending[:take]
                    pending, skip = pending[take:], skip - take
                    continue
                if pending.startswith(DLE_EOT):
                    if len(pending) < 3:
                        break
                    conn.sendall(self._status(pending[2]))
                    pending = pending[3:]
                    continue
                if pending.startswith(RASTER):
                    if len(pending) < 8:
                        break
                    width = pending[4] + 256 * pending[5]
                    height = pending[6] + 256 * pending[7]
                    job += pending[:8]
                    pending, skip = pending[8:], width * height
                    continue
                nxt = min(
                    (i for i in (pending.find(DLE_EOT, 1), pending.find(RASTER, 1)) if i > 0),
                    default=len(pending),
                )
                if pending[nxt - 1 : nxt] == b"\x10" and nxt == len(pending):
                    nxt -= 1  # a DLE at the very end may start a query: wait for the rest
                    if nxt == 0:
                        break
                job += pending[:nxt]
                pending = pending[nxt:]
        if job:
            self.jobs.append(bytes(job))
