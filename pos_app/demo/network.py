"""The demo terminal's network cable: real HTTP to the loopback backend while
``up``; unplugged, every request fails as a refused connection, so the demo can
show offline acceptance and the outbox draining when the cable goes back in."""

from __future__ import annotations

import httpx


class NetworkSwitch(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.up = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("network cable unplugged (demo)", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
