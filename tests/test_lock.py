"""requirements/lock.txt: every package at one exact version with its hashes, inside the
ranges pyproject.toml declares, and installed as locked in the environment running the tests.

scripts/lock.sh regenerates the lock; docs/DEVELOPMENT.md says when and how."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"
EXTRAS = ("server", "dev", "packaging")
# Tools whose verdict decides a build: pinned exactly in pyproject.toml, not by range.
EXACT_TOOLS = ("pytest", "pytest-qt", "pytest-timeout", "pytest-xdist", "ruff", "mypy")
EXACT_PACKAGING = ("pyinstaller",)
ENTRY = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)\s*(?:;(?P<marker>.+))?"
)


@dataclass
class Locked:
    name: str
    version: Version
    marker: Marker | None
    hashes: list[str] = field(default_factory=list)

    def applies(self) -> bool:
        return self.marker is None or self.marker.evaluate()


def parse_lock(text: str) -> list[Locked]:
    """The lock's entries; a backslash continues an entry, '#' starts a comment."""
    entries: list[Locked] = []
    logical = re.sub(r"\\\n", " ", text)
    for raw in logical.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        spec = line.split(" --", 1)[0].strip()
        match = ENTRY.fullmatch(spec)
        if match is None:
            raise ValueError(f"lock line is not 'name==version': {spec[:80]!r}")
        marker = match["marker"]
        entries.append(
            Locked(
                name=canonicalize_name(match["name"]),
                version=Version(match["version"]),
                marker=Marker(marker.strip()) if marker else None,
                hashes=re.findall(r"--hash=(\w+:[0-9a-f]+)", line),
            )
        )
    return entries


def declared() -> list[tuple[str, Requirement]]:
    """(where, requirement) for pyproject's dependencies, extras and build requirements."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = [("build-system", Requirement(r)) for r in pyproject["build-system"]["requires"]]
    found += [("dependencies", Requirement(r)) for r in pyproject["project"]["dependencies"]]
    for extra in EXTRAS:
        found += [
            (f"[{extra}]", Requirement(r))
            for r in pyproject["project"]["optional-dependencies"][extra]
        ]
    return found


@pytest.fixture(scope="module")
def lock() -> list[Locked]:
    return parse_lock(LOCK.read_text(encoding="utf-8"))


def test_every_locked_package_has_sha256_hashes(lock: list[Locked]) -> None:
    assert len(lock) > 50
    missing = [entry.name for entry in lock if not entry.hashes]
    assert not missing, f"no --hash for {missing}: regenerate with scripts/lock.sh"
    weak = [e.name for e in lock for h in e.hashes if not re.fullmatch(r"sha256:[0-9a-f]{64}", h)]
    assert not weak, f"hashes other than sha256 for {weak}"


def test_each_package_is_locked_once_per_environment(lock: list[Locked]) -> None:
    here = [entry.name for entry in lock if entry.applies()]
    assert sorted(set(here)) == sorted(here), "a package is locked twice for this Python"


def test_pyproject_ranges_admit_the_locked_versions(lock: list[Locked]) -> None:
    by_name: dict[str, list[Locked]] = {}
    for entry in lock:
        by_name.setdefault(entry.name, []).append(entry)
    problems = []
    for where, requirement in declared():
        name = canonicalize_name(requirement.name)
        if requirement.marker is not None and not any(
            requirement.marker.evaluate({"extra": extra}) for extra in ("", *EXTRAS)
        ):
            continue
        entries = by_name.get(name)
        if not entries:
            problems.append(f"{where} {requirement}: not in the lock")
            continue
        # Every locked version (one per marker branch, e.g. numpy per Python version).
        problems += [
            f"{where} {requirement}: locked {entry.version}"
            for entry in entries
            if not requirement.specifier.contains(entry.version, prereleases=True)
        ]
    assert not problems, (
        "pyproject.toml and requirements/lock.txt disagree (run scripts/lock.sh):\n"
        + "\n".join(problems)
    )


def test_tools_are_pinned_exactly_in_pyproject() -> None:
    pins = {
        canonicalize_name(r.name): r.specifier
        for where, r in declared()
        if where in ("[dev]", "[packaging]")
    }
    for tool in (*EXACT_TOOLS, *EXACT_PACKAGING):
        pin = pins[canonicalize_name(tool)]
        specs = list(pin)
        assert len(specs) == 1 and specs[0].operator == "==", f"{tool} is not pinned: {pin}"


def test_the_environment_has_the_locked_versions(lock: list[Locked]) -> None:
    """scripts/bootstrap.sh installed this environment from the lock (not from the ranges)."""
    wrong = []
    for entry in lock:
        if not entry.applies():
            continue
        try:
            installed = Version(metadata.version(entry.name))
        except metadata.PackageNotFoundError:
            wrong.append(f"{entry.name}: not installed (locked {entry.version})")
            continue
        if installed != entry.version:
            wrong.append(f"{entry.name}: {installed} installed, {entry.version} locked")
    assert not wrong, "run scripts/bootstrap.sh:\n" + "\n".join(wrong)


def test_parse_lock_reads_continuations_markers_and_rejects_ranges() -> None:
    text = (
        "# header\n"
        "numpy==2.4.6 ; python_full_version < '3.12' \\\n"
        "    --hash=sha256:" + "a" * 64 + " \\\n"
        "    --hash=sha256:" + "b" * 64 + "\n"
        "    # via pos-app\n"
        "ruff==0.17.6 \\\n"
        "    --hash=sha256:" + "c" * 64 + "\n"
    )
    numpy, ruff = parse_lock(text)
    assert (numpy.name, str(numpy.version), len(numpy.hashes)) == ("numpy", "2.4.6", 2)
    assert numpy.marker is not None and "python_full_version" in str(numpy.marker)
    assert ruff.marker is None and ruff.hashes == ["sha256:" + "c" * 64]
    with pytest.raises(ValueError, match="name==version"):
        parse_lock("numpy>=2 \\\n    --hash=sha256:" + "a" * 64 + "\n")
