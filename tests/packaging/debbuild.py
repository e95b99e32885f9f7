"""Building the two .deb versions the packaging tests install (cached by input hash)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
INPUTS = ("pos_app", "packaging", "assets", "config", "pyproject.toml", "requirements")
UPGRADE_SUFFIX = "+upgrade1"
# The upgrade's package defaults differ from the first version's (issue 16.2).
V2_DEFAULTS_EXTRA = "\n[logging]\nbackups = 7\n"


def _input_hash() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    digest.update(V2_DEFAULTS_EXTRA.encode())
    return digest.hexdigest()[:16]


def deb_version() -> str:
    text = (ROOT / "pos_app" / "__init__.py").read_text()
    match = re.search(r'__version__ = "([^"]+)"', text)
    assert match
    return match.group(1)


@contextmanager
def built_debs() -> Iterator[tuple[Path, Path]]:
    """Version N and N+upgrade1 of the package, built once per input hash."""
    (ROOT / "build").mkdir(exist_ok=True)
    # Two test runs at once (a shared tree) must not build into the same folders.
    with (ROOT / "build" / "deb-cache.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield build_debs(ROOT / "build" / "deb-cache" / _input_hash())


def build_debs(cache: Path) -> tuple[Path, Path]:
    version = deb_version()
    first = cache / f"pos-app_{version}_amd64.deb"
    second = cache / f"pos-app_{version}{UPGRADE_SUFFIX}_amd64.deb"
    if not (first.exists() and second.exists()):
        # One cached build at a time: each is ~300 MB.
        shutil.rmtree(cache.parent, ignore_errors=True)
        env = {**os.environ, "DEB_COMPRESSION": "zstd"}
        started = time.monotonic()
        _run([str(ROOT / "packaging" / "build_deb.sh"), str(cache)], env=env)
        built = time.monotonic()
        defaults = cache / "defaults-v2.toml"
        text = (ROOT / "packaging" / "debian" / "defaults.toml").read_text()
        defaults.write_text(text + V2_DEFAULTS_EXTRA)
        env |= {
            "REUSE_BUNDLE": "1",
            "POS_APP_DEB_VERSION": version + UPGRADE_SUFFIX,
            "POS_APP_DEB_DEFAULTS": str(defaults),
        }
        _run([str(ROOT / "packaging" / "build_deb.sh"), str(cache)], env=env)
        (cache / "build-seconds.txt").write_text(f"{built - started:.1f}\n")
    return first, second


def _run(command: list[str], *, env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
