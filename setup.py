"""The one build step pyproject.toml cannot say: the repository's top-level assets/ and
config/ go into the wheel as pos_app/_data/assets and pos_app/_data/config (package data,
read with importlib.resources by pos_app/core/resources.py). Everything else is in
pyproject.toml. An editable install reads the tree and copies nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA_FOLDERS = ("assets", "config")
PACKAGE_DATA = Path("pos_app") / "_data"  # pos_app.core.resources.PACKAGE_DATA


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for name in DATA_FOLDERS:
            target = Path(self.build_lib) / PACKAGE_DATA / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__"))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not self.editable_mode:
            for name in DATA_FOLDERS:
                folder = ROOT / name
                outputs += [
                    str(Path(self.build_lib) / PACKAGE_DATA / name / path.relative_to(folder))
                    for path in sorted(folder.rglob("*"))
                    if path.is_file()
                ]
        return outputs


setup(cmdclass={"build_py": BuildPyWithData})
