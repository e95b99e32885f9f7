"""Factory for ``uvicorn --factory`` with several workers: settings come from the environment."""

from __future__ import annotations

import os

from fastapi import FastAPI

from pos_app.server.app import create_app
from pos_app.server.settings import ServerSettings

ENV_DATA_DIR = "POS_APP_BACKEND_DATA_DIR"
ENV_DB_URL = "POS_APP_BACKEND_DB_URL"


def app_from_env() -> FastAPI:
    settings = ServerSettings.for_data_dir(
        os.environ[ENV_DATA_DIR], os.environ.get(ENV_DB_URL) or None
    )
    # The parent process migrated before starting the workers.
    return create_app(settings, migrate=False)
