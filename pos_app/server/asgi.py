"""Factory for ``uvicorn --factory`` with several workers: settings come from the environment
(``POS_APP_SERVER_*``) and the settings file (``POS_APP_SERVER_CONFIG``)."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from pos_app.server.app import create_app
from pos_app.server.settings import ServerSettings


def app_from_env() -> FastAPI:
    # The parent process migrated before starting the workers.
    settings = ServerSettings()  # type: ignore[call-arg]
    app = create_app(settings, migrate=False)
    if settings.db_pool_warm:
        app.state.backend.warm()
    settle_heap()
    return app


def settle_heap() -> None:
    """Move everything built so far (modules, the app, its routes and schemas: about 120,000
    objects) out of the cyclic collector's reach. Otherwise each full collection walks them
    all again: under 16 terminals one came every 2-3 s and held the GIL for about 90 ms,
    every request in flight waiting (``gc.freeze``; objects made later are collected as
    usual)."""
    gc.collect()
    gc.freeze()
