"""The serve path's app factory leaves the startup heap out of the cyclic collector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pos_app.server import admin

PROBE = """
import gc, json
from pos_app.server.asgi import app_from_env
app = app_from_env()
frozen = gc.get_freeze_count()

class Cycle:
    pass

a, b = Cycle(), Cycle()
a.peer, b.peer = b, a  # garbage made after startup is still collected
del a, b
print(json.dumps({"frozen": frozen, "collected": gc.collect(), "routes": len(app.routes)}))
"""


def test_startup_objects_are_frozen_and_later_garbage_still_collected(tmp_path: Path) -> None:
    data_dir = tmp_path / "backend"
    db_url = f"sqlite:///{data_dir / 'backend.sqlite3'}"
    admin.init_backend(data_dir, db_url)
    env = {
        **os.environ,
        "POS_APP_SERVER_DATA_DIR": str(data_dir),
        "POS_APP_SERVER_DB_URL": db_url,
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    # The modules, the app and its schemas: tens of thousands of objects no collection
    # walks again (a full collection over them held the GIL for ~90 ms under load).
    assert probe["frozen"] > 20_000
    assert probe["collected"] >= 2
    assert probe["routes"] >= 4  # the app was built: its routers are mounted
