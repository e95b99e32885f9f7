"""The layer rules of ARCHITECTURE.md, checked by walking every import."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "pos_app"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
QT = {"PySide6", "shiboken6", "PyQt5", "PyQt6"}
# Qt is the UI's; the demo's scaffolding (screenshot tours) drives the UI from above it and
# stays out of the product: no product package may import pos_app.demo (RULES).
QT_PACKAGES = {"ui", "demo"}

# package -> (allowed pos_app sub-packages, allowed third-party top-level modules or None = any
# non-Qt library)
RULES: dict[str, tuple[set[str], set[str] | None]] = {
    "core": ({"core"}, set()),
    "paytoken": ({"core", "paytoken"}, {"cryptography", "cbor2"}),
    "scanning": ({"core", "scanning"}, {"numpy", "cv2", "zxingcpp", "pyzbar", "segno", "reedsolo"}),
    "terminal": ({"core", "paytoken", "scanning", "terminal"}, None),
    "server": ({"core", "paytoken", "server"}, None),
    "ui": ({"core", "paytoken", "scanning", "terminal", "ui"}, None),
    "demo": ({"core", "paytoken", "scanning", "terminal", "ui", "server", "demo"}, None),
}


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append(("pos_app." + _relative(path, node), node.lineno))
    return found


def _relative(path: Path, node: ast.ImportFrom) -> str:
    parts = list(path.relative_to(ROOT).parent.parts)
    base = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    return ".".join([*base, *(node.module.split(".") if node.module else [])])


def violations() -> list[str]:
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        package = rel.parts[0] if len(rel.parts) > 1 else None
        for module, line in _imports(path):
            top = module.split(".")[0]
            where = f"pos_app/{rel}:{line} imports {module}"
            if top in QT and package not in QT_PACKAGES:
                problems.append(f"{where}: only pos_app/ui (and the demo above it) may import Qt")
            if package is None or top in STDLIB:
                continue
            allowed_pkgs, allowed_libs = RULES[package]
            if top == "pos_app":
                # The root package itself holds only __version__ (its __init__ is kept thin).
                sub = module.split(".")[1] if "." in module else ""
                if sub and sub not in allowed_pkgs:
                    problems.append(f"{where}: {package} may import only {sorted(allowed_pkgs)}")
            elif allowed_libs is not None and top not in allowed_libs:
                problems.append(f"{where}: {package} may use only {sorted(allowed_libs)}")
    return problems


def test_every_import_respects_the_layer_rules() -> None:
    assert violations() == []


def test_every_package_has_a_rule() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(RULES), f"add a layer rule for {packages - set(RULES)}"


@pytest.mark.parametrize("init", sorted(ROOT.rglob("__init__.py")), ids=str)
def test_package_init_files_stay_thin(init: Path) -> None:
    tree = ast.parse(init.read_text(encoding="utf-8"))
    for node in tree.body:
        is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        is_const = isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
            node.value, ast.Constant
        )
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        assert is_doc or is_const or is_future, f"{init}:{node.lineno} does work at import time"


def test_the_checker_catches_a_broken_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "pos_app"
    (fake / "core").mkdir(parents=True)
    (fake / "core" / "bad.py").write_text("import httpx\nfrom PySide6 import QtCore\n")
    (fake / "server").mkdir()
    (fake / "server" / "bad.py").write_text("from pos_app.terminal import settings\n")
    (fake / "ui").mkdir()
    (fake / "ui" / "bad.py").write_text("from pos_app.demo.tour import Tour\n")
    (fake / "demo").mkdir()
    (fake / "demo" / "tour.py").write_text("from PySide6.QtCore import QTimer\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake)
    found = violations()
    assert any("core/bad.py:1 imports httpx" in p for p in found)
    assert any("only pos_app/ui (and the demo above it) may import Qt" in p for p in found)
    assert any("server/bad.py:1 imports pos_app.terminal" in p for p in found)
    assert any("ui/bad.py:1 imports pos_app.demo.tour" in p for p in found)
    assert not any("demo/tour.py" in p for p in found)


def class_names(root: Path) -> dict[str, list[str]]:
    """Every class name defined in the tree (at any depth) -> where it is defined."""
    where: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(f"{path.relative_to(root)}:{node.lineno}")
    return where


def test_no_class_name_is_defined_twice() -> None:
    # One name, one meaning: a reader who greps ``class Step`` finds the one it is.
    twice = {name: places for name, places in class_names(ROOT).items() if len(places) > 1}
    assert twice == {}


def test_the_class_name_check_sees_nested_and_private_classes(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("class _Signed:\n    class Step: ...\n")
    (tmp_path / "b.py").write_text("def f():\n    class Step: ...\nclass _Signed: ...\n")
    found = class_names(tmp_path)
    assert found["Step"] == ["a.py:2", "b.py:2"] and found["_Signed"] == ["a.py:1", "b.py:3"]


MAX_TERMINAL_TOP_MODULES = 20  # the rest lives in subpackages that name their job


def test_the_terminal_package_keeps_at_most_20_modules_at_its_top() -> None:
    top = sorted(p.name for p in (ROOT / "terminal").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_TERMINAL_TOP_MODULES, top
