"""One-off, mechanical: tests/ (and bench/) as packages, no sys.path.insert in tests.

Run from the repository root, then let ruff sort the imports:
    python3 scripts/migrate_tests_to_packages.py
    .venv/bin/ruff check --fix --select I001,F401 tests bench
    .venv/bin/ruff format tests bench
Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# helper module -> its package
HELPERS = {
    "debbuild": "tests.packaging",
    "pt1_forge": "tests.paytoken",
    "scan_testkit": "tests.scanning",
    "server_support": "tests.server",
    "checkout_support": "tests.terminal",
    "fake_printer": "tests.terminal",
    "doctor_support": "tests.terminal",
    "test_doctor_support": "tests.terminal",  # renamed: it holds fakes, not tests
    "fake_checkout": "tests.ui",
    "helpers": "tests.ui",
    "scanner_keys": "tests.ui",
    "fault_harness": "bench",
    "fault_ledger": "bench",
}
RENAMED = {"test_doctor_support": "doctor_support"}


def main() -> None:
    old = ROOT / "tests/terminal/test_doctor_support.py"
    if old.exists():
        subprocess.run(["git", "mv", str(old), str(old.with_name("doctor_support.py"))],
                       check=True, cwd=ROOT)
    for folder in [ROOT / "tests", *sorted((ROOT / "tests").rglob("*")), ROOT / "bench"]:
        if folder.is_dir() and "__pycache__" not in folder.parts and any(folder.glob("*.py")):
            init = folder / "__init__.py"
            if not init.exists():
                init.write_text("")
    names = "|".join(sorted(HELPERS, key=len, reverse=True))
    from_re = re.compile(rf"^(\s*)from ({names}) import ", re.M)
    import_re = re.compile(rf"^(\s*)import ({names})$", re.M)
    for path in [*sorted((ROOT / "tests").rglob("*.py")), *sorted((ROOT / "bench").glob("*.py"))]:
        text = path.read_text(encoding="utf-8")
        new = from_re.sub(lambda m: f"{m[1]}from {HELPERS[m[2]]}.{RENAMED.get(m[2], m[2])} import ", text)
        new = import_re.sub(lambda m: f"{m[1]}from {HELPERS[m[2]]} import {RENAMED.get(m[2], m[2])}", new)
        if path.parts[-2] != "bench" or re.search(r"^from (tests|bench)\.", new, re.M):
            new = _drop_path_inserts(new, bench=path.parts[-2] == "bench")
        if new != text:
            path.write_text(new, encoding="utf-8")


def _drop_path_inserts(text: str, *, bench: bool) -> str:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    for line in lines:
        if re.match(r"\s*sys\.path\.insert\(", line):
            # Comments just above that explain the insert go with it.
            while out and out[-1].lstrip().startswith("#") and re.search(
                r"sys\.path|import.mode|rootdir|next to this file", out[-1]
            ):
                out.pop()
            if bench and not any("sys.path.insert(0, str(ROOT))" in x for x in out):
                root = "ROOT" if re.search(r"^ROOT = ", text, re.M) else None
                out.append(
                    "sys.path.insert(0, str(ROOT))  # bench/ and tests/ as packages\n"
                    if root else
                    "sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, tests/\n"
                )
            continue
        out.append(line)
    return "".join(out)


if __name__ == "__main__":
    main()
