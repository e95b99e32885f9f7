"""mypy is strict over the whole tree (issue 20): the package, its tests and its benches,
from ``make typecheck`` (which CI runs through ``make test``) and from a bare ``mypy``."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = ["pos_app", "tests", "bench"]


def _recipe(makefile: str, target: str) -> list[str]:
    lines = makefile.splitlines()
    start = lines.index(f"{target}:") + 1
    recipe: list[str] = []
    for line in lines[start:]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_mypy_is_strict_over_the_package_its_tests_and_benches() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True
    assert config["files"] == TREE  # a bare `mypy` checks what `make typecheck` checks
    assert "overrides" not in config  # no module is let off (disallow_untyped_defs = false...)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert _recipe(makefile, "typecheck") == [f"$(VENV)/mypy {' '.join(TREE)}"]
    assert "typecheck" in _recipe_prerequisites(makefile, "test")


def _recipe_prerequisites(makefile: str, target: str) -> list[str]:
    for line in makefile.splitlines():
        if line.startswith(f"{target}:"):
            return line.split(":", 1)[1].split()
    raise AssertionError(f"no {target} target")
