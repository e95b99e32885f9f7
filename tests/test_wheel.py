"""The wheel carries the repository's assets/ and config/ (mapped by setup.py into
pos_app/_data), and an installed wheel finds them through importlib.resources; a checkout
reads the tree, the PyInstaller bundle its own folder (pos_app/core/resources.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pos_app.core.resources import data_dir

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pos_app", "assets", "config", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


def _tree_files(name: str) -> dict[str, bytes]:
    folder = ROOT / name
    return {
        f"pos_app/_data/{name}/{path.relative_to(folder).as_posix()}": path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the sources (the tree's build/ is left alone)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, src / name)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(out), str(src)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("pos_app-*.whl")
    return built


def test_the_wheel_carries_assets_and_config_byte_for_byte(wheel: Path) -> None:
    expected = _tree_files("assets") | _tree_files("config")
    assert "pos_app/_data/config/risk.toml" in expected
    assert "pos_app/_data/assets/catalog/demo-store.csv" in expected
    with zipfile.ZipFile(wheel) as archive:
        packed = {n: archive.read(n) for n in archive.namelist() if n.startswith("pos_app/_data/")}
    assert packed == expected


def test_an_installed_wheel_reads_them_through_importlib_resources(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    probe = (
        "import json, pos_app\n"
        "from pos_app.core.resources import data_dir\n"
        "from pos_app.core.catalog import Catalog\n"
        "from pos_app.terminal.paths import catalog_dir\n"
        "from pos_app.risk_cli import _load\n"
        "products = len(list(Catalog.from_dir(catalog_dir())))\n"
        "print(json.dumps({'package': pos_app.__file__, 'assets': str(data_dir('assets')),\n"
        "  'config': str(data_dir('config')), 'products': products,\n"
        "  'rules': len(_load(None).rules)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path,
        check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    package = target / "pos_app"
    assert Path(seen["package"]).parent == package
    assert seen["assets"] == str(package / "_data" / "assets")
    assert seen["config"] == str(package / "_data" / "config")
    assert seen["products"] > 10
    assert seen["rules"] > 0


def test_a_checkout_reads_the_tree() -> None:
    assert data_dir("assets") == ROOT / "assets"
    assert data_dir("config") == ROOT / "config"


def test_the_pyinstaller_bundle_reads_its_own_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "assets" / "catalog").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert data_dir("assets") == tmp_path / "assets"
    # A folder the bundle lacks comes from the package or the tree, not a missing path.
    assert data_dir("config") == ROOT / "config"
