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
    # Two test runs (or xdist workers) at once must not build into the same folders: the
    # lock is held while building, and the second finds the packages built.
    with (ROOT / "build" / "deb-cache.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pair = build_debs(ROOT / "build" / "deb-cache" / _input_hash())
        fcntl.flock(lock, fcntl.LOCK_UN)
    yield pair


def build_debs(cache: Path) -> tuple[Path, Path]:
    version = deb_version()
    first = cache / f"pos-app_{version}_amd64.deb"
    second = cache / f"pos-app_{version}{UPGRADE_SUFFIX}_amd64.deb"
    if not (first.exists() and second.exists()):
        # Each build is ~180 MB: keep only the newest other one, which a concurrent run of
        # other inputs (another xdist worker before a checkout changed) may still be using.
        older = sorted(
            (p for p in cache.parent.glob("*") if p.is_dir() and p != cache),
            key=lambda p: p.stat().st_mtime,
        )
        for stale in older[:-1]:
            shutil.rmtree(stale, ignore_errors=True)
        started = time.monotonic()
        _run([str(ROOT / "packaging" / "build_deb.sh"), str(cache)], env=dict(os.environ))
        (cache / "build-seconds.txt").write_text(f"{time.monotonic() - started:.1f}\n")
        _repack_upgrade(first, second, version + UPGRADE_SUFFIX, cache / "repack")
    return first, second


def _repack_upgrade(first: Path, second: Path, version: str, stage: Path) -> None:
    """The next release: the same files with other package defaults and a higher version.

    Unpacked and packed again with dpkg-deb (seconds) instead of a second build; zstd -1,
    since only the first package's size is checked."""
    _run(["dpkg-deb", "--raw-extract", str(first), str(stage)], env=dict(os.environ))
    control = stage / "DEBIAN" / "control"
    text = control.read_text()
    control.write_text(re.sub(r"^Version: .*$", f"Version: {version}", text, count=1, flags=re.M))
    defaults = stage / "usr" / "share" / "pos-app" / "defaults.toml"
    defaults.write_text(defaults.read_text() + V2_DEFAULTS_EXTRA)
    digest = hashlib.md5(defaults.read_bytes()).hexdigest()  # dpkg's md5sums
    md5sums = stage / "DEBIAN" / "md5sums"
    lines = md5sums.read_text().splitlines()
    relative = "usr/share/pos-app/defaults.toml"
    lines = [f"{digest}  {relative}" if line.endswith(f"  {relative}") else line for line in lines]
    md5sums.write_text("\n".join(lines) + "\n")
    build = ["dpkg-deb", "--root-owner-group", "-Zzstd", "-z1", "--build", str(stage), str(second)]
    _run(build, env=dict(os.environ))
    shutil.rmtree(stage)


def _run(command: list[str], *, env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
