"""Copy config/risk.toml into the package (pos_app/core/risk/default_rules.py).

An installed wheel has no config/ directory, and the package data list is not
ours to change, so the default rule set ships as a Python string. A test fails
when the two differ; run this script after editing config/risk.toml.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "config" / "risk.toml"
TARGET = ROOT / "pos_app" / "core" / "risk" / "default_rules.py"


def render(text: str) -> str:
    assert '"""' not in text and "\\" not in text, "risk.toml must not contain triple quotes"
    return (
        '"""The default risk rule set: a generated copy of config/risk.toml.\n\n'
        "Do not edit: change config/risk.toml and run bench/risk_sync_default.py.\n"
        '"""\n\n'
        f'DEFAULT_RULES_TOML = """{text}"""\n'
    )


def main() -> None:
    TARGET.write_text(render(SOURCE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
