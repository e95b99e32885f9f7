"""The evidence for one flagged sale, as one readable page (HTML in a QTextBrowser).

Every value from the database or the network is escaped: a cashier id or a
note must never be able to inject markup into the manager's screen.
"""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QTextBrowser, QWidget

from pos_app.terminal.reviews.detail import SaleDetail
from pos_app.ui.manager.formatting import clock, when, yen
from pos_app.ui.manager.texts import flag_text, reason_label, t, word

STYLE = """
<style>
h2 { margin: 0 0 4px 0; }
h3 { margin: 14px 0 4px 0; color: #333; border-bottom: 1px solid #ccc; }
td, th { padding: 2px 8px 2px 0; }
th { text-align: left; color: #555; font-weight: normal; }
.rule { margin: 4px 0 2px 0; font-weight: bold; }
.sub { color: #555; }
.inputs { color: #444; font-family: monospace; }
.warn { color: #b00020; font-weight: bold; }
.badge { font-weight: bold; }
</style>
"""


_TIMES = ("iat", "exp")  # Unix seconds in the token facts: shown as local date and time
TECHNICAL_LINK = "technical"


class DetailPane(QTextBrowser):
    def __init__(self, *, lang: str, tz: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lang = lang
        self._tz = tz
        self._detail: SaleDetail | None = None
        self.technical = False  # token internals folded until asked for
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._clicked)
        self.show_empty()

    def show_empty(self) -> None:
        self._detail = None
        self.setHtml(f"<p class='sub'>{escape(t('select_sale', self._lang))}</p>")

    def show_detail(self, detail: SaleDetail) -> None:
        self._detail = detail
        html = render_detail(detail, lang=self._lang, tz=self._tz, technical=self.technical)
        self.setHtml(html)

    def _clicked(self, url: QUrl) -> None:
        if url.toString() == TECHNICAL_LINK and self._detail is not None:
            self.technical = not self.technical
            self.show_detail(self._detail)


def render_detail(d: SaleDetail, *, lang: str, tz: tzinfo, technical: bool = False) -> str:
    parts = [
        STYLE,
        _header(d, lang, tz),
        _rules(d, lang),
        _basket(d, lang),
        _token(d, lang, tz),
        _age_check(d, lang, tz),
        _till_actions(d, lang, tz),
        _history(d, lang, tz),
        _steps(d, lang, tz),
        _technical(d, lang, shown=technical),
    ]
    return "".join(parts)


def _e(value: object) -> str:
    return escape(str(value))


def _header(d: SaleDetail, lang: str, tz: tzinfo) -> str:
    i = d.item
    status = t(f"status_{i.status.value}", lang)
    claim = ""
    if i.claimed_by:
        time = when(i.claimed_at or 0, tz)
        claim = f"<p class='warn'>{_e(t('taken_by', lang, manager=i.claimed_by, time=time))}</p>"
    sep = " &nbsp;·&nbsp; "
    facts = sep.join(
        (
            _e(when(i.created_at, tz)),
            f"{_e(t('cashier', lang))} <b>{_e(i.cashier_id)}</b>",
            f"{_e(t('terminal', lang))} {_e(i.terminal_id)}",
            f"{_e(t('state', lang))}: <b>{_e(word('state', i.state, lang))}</b>",
        )
    )
    action = word("action", i.risk_action, lang)
    network = [reason_label(r.code, lang) for r in d.rules if r.source == "backend"]
    verdict = sep.join(
        (
            f"{_e(t('col_risk', lang))} <b>{i.score}</b> ({_e(action)})",
            *(  # the till allowed it but the payment network asked for more: say so
                [
                    f"<span class='warn'>{_e(t('network_added', lang, reasons=', '.join(network)))}"
                    "</span>"
                ]
                if network
                else []
            ),
            f"{_e(t('review_status', lang))}: <span class='badge'>{_e(status)}</span>",
        )
    )
    return (
        f"<h2>{_e(yen(i.total, i.currency))} &nbsp; {_e(i.number)}</h2>"
        f"<p>{facts}<br>{verdict}</p>{claim}"
    )


def _rules(d: SaleDetail, lang: str) -> str:
    out = [f"<h3>{_e(t('why', lang))}</h3>"]
    for rule in d.rules:
        main, other = (rule.ja, rule.en) if lang == "ja" else (rule.en, rule.ja)
        inputs = ", ".join(f"{k} = {v}" for k, v in rule.inputs)
        out.append(f"<p class='rule'>{_e(reason_label(rule.code, lang))}</p>")
        if not main:  # the record kept only the rule's code: show what we know
            out.append(f"<p class='sub'>{_e(rule.code)}</p>")
            continue
        out.append(f"<p>{_e(main)}<br><span class='sub'>{_e(other)}</span>")
        if inputs:
            out.append(f"<br><span class='inputs'>{_e(t('inputs', lang))}: {_e(inputs)}</span>")
        out.append("</p>")
    extra = [c for c in d.item.reasons if c not in {r.code for r in d.rules}]
    if extra:
        labels = t("list_separator", lang).join(reason_label(c, lang) for c in extra)
        out.append(f"<p class='warn'>{_e(t('declined_because', lang, reason=labels))}</p>")
    return "".join(out)


def _basket(d: SaleDetail, lang: str) -> str:
    out = [f"<h3>{_e(t('basket', lang))}</h3>"]
    if not d.lines:
        return out[0] + f"<p class='sub'>{_e(t('no_lines', lang, terminal=d.item.terminal_id))}</p>"
    heads = ("item", "category", "qty", "unit", "line_total")
    out.append("<table><tr>" + "".join(f"<th>{_e(t(h, lang))}</th>" for h in heads) + "</tr>")
    for ln in d.lines:
        out.append(
            f"<tr><td>{_e(ln.name)}</td><td>{_e(word('category', ln.category, lang))}</td>"
            "<td align='right'>"
            f"{ln.quantity}</td><td align='right'>{_e(yen(ln.unit_price))}</td>"
            f"<td align='right'>{_e(yen(ln.line_total))}</td></tr>"
        )
    out.append(
        f"<tr><td colspan='4'><b>{_e(t('col_total', lang))}</b></td>"
        f"<td align='right'><b>{_e(yen(d.item.total, d.item.currency))}</b></td></tr></table>"
    )
    return "".join(out)


def _token(d: SaleDetail, lang: str, tz: tzinfo) -> str:
    tok = d.token
    flags = ", ".join(flag_text(f, lang) for f in tok.flags) or t("no_flags", lang)
    flag_cls = "warn" if tok.flags else ""
    age = t("seconds", lang, n=tok.age_s) if tok.age_s is not None else "?"
    mode = t("offline", lang) if tok.offline else t("online", lang)
    facts = dict(tok.other)
    rows = [
        (t("wallet", lang), _e(tok.wallet_masked or "?")),
        (t("flags", lang), f"<span class='{flag_cls}'>{_e(flags)}</span>"),
        (t("age", lang), _e(age)),
        (t("mode", lang), f"<span class='{'warn' if tok.offline else ''}'>{_e(mode)}</span>"),
        *((t(f"fact_{k}", lang), _e(when(int(facts[k]), tz))) for k in _TIMES if _digits(facts, k)),
    ]
    if _digits(facts, "limit"):
        rows.append((t("fact_limit", lang), _e(yen(int(facts["limit"])))))
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<h3>{_e(t('token', lang))}</h3><table>{body}</table>"


def _digits(facts: dict[str, str], key: str) -> bool:
    return facts.get(key, "").isdigit()


def _technical(d: SaleDetail, lang: str, *, shown: bool) -> str:
    """Token internals (cti, device, kid...), the sale's UUID and the rule-set hash:
    for support staff, folded under one link so a manager reads the sale, not them."""
    label = t("hide_technical" if shown else "show_technical", lang)
    link = f"<p><a href='{TECHNICAL_LINK}'>{_e(label)}</a></p>"
    if not shown:
        return link
    readable = {*_TIMES, "limit"}
    rows = [("sale_id", d.item.sale_id)]
    rows += [(k, v) for k, v in d.token.other if k not in readable]
    if d.rules_version:
        rows.append(("rules_version", d.rules_version))
    body = "".join(f"<tr><th>{_e(k)}</th><td class='inputs'>{_e(v)}</td></tr>" for k, v in rows)
    return f"{link}<h3>{_e(t('technical', lang))}</h3><table>{body}</table>"


def _steps(d: SaleDetail, lang: str, tz: tzinfo) -> str:
    i = d.item
    out = [f"<h3>{_e(t('steps', lang))}</h3>"]
    if i.remote:
        out.append(f"<p class='sub'>{_e(i.terminal_id)} {_e(t('other_terminal', lang))}</p>")
    rows = "".join(
        f"<tr><td>{_e(clock(s.at, tz))}</td><td>{_e(word('state', s.state, lang))}</td>"
        f"<td class='sub'>{_e(reason_label(s.detail, lang) if s.detail else '')}</td></tr>"
        for s in d.steps
    )
    if rows:
        out.append(f"<table>{rows}</table>")
    return "".join(out)


def _age_check(d: SaleDetail, lang: str, tz: tzinfo) -> str:
    check = d.age_check
    if check is None:
        return ""
    verdict = t(f"age_{check.result.value}", lang)
    how = t(f"age_{check.method.value}", lang, who=check.confirmed_by)
    cls = "" if check.result.value == "confirmed" else "warn"
    return (
        f"<h3>{_e(t('age_check', lang))}</h3>"
        f"<p><span class='{cls}'><b>{_e(verdict)}</b></span> {_e(how)}<br>"
        f"<span class='sub'>{_e(when(check.at, tz))}</span></p>"
    )


def _till_actions(d: SaleDetail, lang: str, tz: tzinfo) -> str:
    if not d.till_actions:
        return ""
    rows = "".join(
        f"<tr><td>{_e(when(a.at, tz))}</td><td><b>{_e(a.manager_id)}</b></td>"
        f"<td>{_e(t(a.action, lang))}</td><td>{_e(a.reason)}</td></tr>"
        for a in d.till_actions
    )
    return f"<h3>{_e(t('till_actions', lang))}</h3><table>{rows}</table>"


def _history(d: SaleDetail, lang: str, tz: tzinfo) -> str:
    head = f"<h3>{_e(t('history', lang))}</h3>"
    if not d.decisions:
        return head + f"<p class='sub'>{_e(t('no_history', lang))}</p>"
    rows = "".join(
        f"<tr><td>{_e(when(x.at, tz))}</td><td><b>{_e(x.reviewer_id)}</b></td>"
        f"<td><b>{_e(t(x.decision.value, lang))}</b></td><td>{_e(x.note)}</td>"
        f"<td class='sub'>{_e(t('sent' if x.synced else 'queued', lang))}</td></tr>"
        for x in d.decisions
    )
    return head + f"<table>{rows}</table>"
