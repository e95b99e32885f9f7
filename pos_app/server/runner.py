"""Run the backend with uvicorn in a background thread (the demo and the tests use it)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from pos_app.server.app import create_app
from pos_app.server.settings import ServerSettings


@dataclass(frozen=True)
class RunningInfo:
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


class BackgroundServer:
    """``with BackgroundServer(settings) as srv: httpx.get(srv.base_url + "/healthz")``."""

    def __init__(self, settings: ServerSettings, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.info = RunningInfo(host, port or free_port(host))
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host=host,
            port=self.info.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            date_header=False,  # the app writes Date from its own clock
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="pos-backend", daemon=True)

    @property
    def base_url(self) -> str:
        return self.info.base_url

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the backend did not start")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self.app.state.backend.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
