"""The ``Date`` header of every answer comes from the backend's own clock.

Tills measure their clock offset from the backend's time (``server_time`` in
decision bodies, ``Date`` on everything else, errors included) and sign with
it, so both must tell the same time: the one the API's rules use. uvicorn's
own ``Date`` (the host clock) is switched off where the server is started.
"""

from __future__ import annotations

from email.utils import formatdate

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pos_app.server.clock import Clock
from pos_app.server.middleware import HttpMiddleware


class BackendDate(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, clock: Clock) -> None:
        super().__init__(app)
        self.clock = clock

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                stamp = formatdate(self.clock.now(), usegmt=True).encode("latin-1")
                message = {**message, "headers": [*headers, (b"date", stamp)]}
            await send(message)

        await self.app(scope, receive, dated)
