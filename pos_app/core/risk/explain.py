"""The full reasoning behind one decision, as text for a manager or an analyst."""

from __future__ import annotations

import json
from dataclasses import fields

from pos_app.core.risk.model import Decision, RiskContext, RuleStatus, SaleFacts

_STATUS_MARK = {
    RuleStatus.FIRED: "FIRED  ",
    RuleStatus.CLEAR: "clear  ",
    RuleStatus.UNKNOWN: "unknown",
    RuleStatus.DISABLED: "off    ",
}


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def explain(facts: SaleFacts, decision: Decision, ctx: RiskContext) -> str:
    """Render the decision, every rule's outcome with its inputs, and the context."""
    out = [
        f"sale {facts.sale_id}  store {facts.store_id}/{facts.terminal_id}  "
        f"wallet {facts.wallet_id}  time {facts.time}",
        f"total {facts.total:,} {facts.currency}  lines {len(facts.lines)}  "
        f"token_flags {facts.token_flags}  token_age_s {facts.token_age_s}  "
        f"offline {facts.offline}  pickup_later {facts.pickup_later}",
        "",
        f"action: {decision.action.value}  score: {decision.score}",
        f"manager may override: {'yes' if decision.manager_may_override else 'no'}  "
        f"online required: {'yes' if decision.online_required else 'no'}  "
        f"offline ok: {'yes' if decision.offline_ok else 'no'}",
        f"rules version: {decision.rules_version}",
        "",
        "reasons:" if decision.reasons else "reasons: none (no rule fired)",
    ]
    for reason in decision.reasons:
        force = reason.force.value if reason.force else "none"
        takeover = ", takeover signal" if reason.takeover else ""
        out.append(f"  [{reason.code}] +{reason.weight}, forces {force}{takeover}")
        out.append(f"    en: {reason.en}")
        out.append(f"    ja: {reason.ja}")
        out.append(f"    inputs: {_compact(reason.inputs)}")
    out += ["", "all rules:"]
    for ev in decision.evaluations:
        detail = ev.note or _compact(ev.inputs)
        out.append(f"  {_STATUS_MARK[ev.status]} {ev.code}: {detail}")
    out += ["", "context (null = not known in this context):"]
    for f in fields(ctx):
        out.append(f"  {f.name}: {_compact(getattr(ctx, f.name))}")
    return "\n".join(out)
