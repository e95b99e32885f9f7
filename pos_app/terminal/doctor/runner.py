"""``pos-app doctor``: what is wrong with this terminal, in one command.

Each check is a small function taking a :class:`DoctorEnv` (everything it
touches: files, clock, probes) and returning one :class:`Finding`. Store IT
reads the table; support reads ``--json``. Checks never raise: a check that
crashes is itself reported as FAIL, so one broken probe cannot hide the rest.
Network checks are *skipped* (not OK) with ``--offline``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pos_app.terminal.doctor.env import DoctorEnv


class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
        }


def ok(name: str, detail: str) -> Finding:
    return Finding(name, Status.OK, detail)


def warn(name: str, detail: str, fix: str) -> Finding:
    return Finding(name, Status.WARN, detail, fix)


def fail(name: str, detail: str, fix: str) -> Finding:
    return Finding(name, Status.FAIL, detail, fix)


def unavailable(name: str, what: str) -> Finding:
    """A component this build does not contain yet: worth a look, never a crash."""
    return warn(name, f"{what} is not available in this build", "update pos-app")


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    run: Callable[[DoctorEnv], Finding]
    network: bool = False


def run_checks(checks: Sequence[Check], env: DoctorEnv, *, offline: bool) -> list[Finding]:
    findings = []
    for check in checks:
        if offline and check.network:
            findings.append(Finding(check.name, Status.SKIP, "skipped (--offline)"))
            continue
        try:
            findings.append(check.run(env))
        except Exception as exc:  # a probe bug must not hide the other findings
            findings.append(
                fail(
                    check.name,
                    f"the check itself failed: {type(exc).__name__}: {exc}",
                    "report this to support with the output of 'pos-app doctor --json'",
                )
            )
    return findings


def exit_code(findings: Sequence[Finding]) -> int:
    return 1 if any(f.status is Status.FAIL for f in findings) else 0


def render_table(findings: Sequence[Finding]) -> str:
    """Aligned, one line per check; the fix on its own indented line under it."""
    width = max((len(f.name) for f in findings), default=0)
    lines = []
    for f in findings:
        lines.append(f"{f.status.value:<4}  {f.name:<{width}}  {f.detail}")
        if f.fix and f.status is not Status.OK:
            lines.append(f"{'':<4}  {'':<{width}}  fix: {f.fix}")
    counts = {s: sum(1 for f in findings if f.status is s) for s in Status}
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    lines.append(f"\n{summary}")
    return "\n".join(lines)


def render_json(findings: Sequence[Finding], *, version: str, offline: bool) -> str:
    doc: dict[str, Any] = {
        "version": version,
        "offline": offline,
        "ok": exit_code(findings) == 0,
        "findings": [f.as_dict() for f in findings],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)
