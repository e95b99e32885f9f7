"""Factory for ``uvicorn --factory`` with several workers: settings come from the environment
(``POS_APP_SERVER_*``) and the settings file (``POS_APP_SERVER_CONFIG``)."""

from __future__ import annotations

from fastapi import FastAPI

from pos_app.server.app import create_app
from pos_app.server.settings import ServerSettings


def app_from_env() -> FastAPI:
    # The parent process migrated before starting the workers.
    return create_app(ServerSettings(), migrate=False)  # type: ignore[call-arg]
