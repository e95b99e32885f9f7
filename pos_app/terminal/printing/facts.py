"""A stored sale as receipt facts: the till's own sales from its local database."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from pos_app.core.age_check import AgeCheck, AgeCheckError
from pos_app.core.api_contract import ReceiptAnswer, ReceiptLineAnswer
from pos_app.core.sale import sale_number
from pos_app.terminal.printing.document import ReceiptFacts, ReceiptLine
from pos_app.terminal.store.db import LocalStore

STANDARD_RATE = 10
NameLookup = Callable[[str, str], str | None]  # (sku, lang) -> catalog name, if known
RateLookup = Callable[[str], int | None]  # sku -> the catalog's tax rate, if known

log = logging.getLogger(__name__)


def load_sale_facts(
    store: LocalStore, sale_id: str, *, lang: str, names: NameLookup | None = None
) -> ReceiptFacts | None:
    rows = store.query("SELECT * FROM sales WHERE sale_id = ?", (sale_id,))
    if not rows:
        return None
    sale = rows[0]
    lines = tuple(
        ReceiptLine(
            name=(names(ln["sku"], lang) if names else None) or ln["name"],
            quantity=int(ln["quantity"]),
            unit_price=int(ln["unit_price"]),
            line_total=int(ln["line_total"]),
            tax_rate=int(ln["tax_rate"]),
        )
        for ln in store.query(
            "SELECT sku, name, quantity, unit_price, line_total, tax_rate FROM sale_lines"
            " WHERE sale_id = ? ORDER BY line_no",
            (sale_id,),
        )
    )
    voided = sale["state"] == "voided"
    return ReceiptFacts(
        sale_number=sale_number(sale["store_id"], sale["terminal_id"], int(sale["seq"])),
        sale_id=sale_id,
        store_id=sale["store_id"],
        terminal_id=sale["terminal_id"],
        cashier_id=sale["cashier_id"],
        at=int(sale["created_at"]),
        currency=sale["currency"],
        total=int(sale["total"]),
        lines=lines,
        wallet_masked=sale["wallet_masked"],
        authorization_id=sale["authorization_id"],
        offline=bool(sale["offline"]),
        age_check=_age_check(sale),
        voided_at=int(sale["updated_at"]) if voided else None,
        void_reason=_void_reason(store, sale_id) if voided else None,
    )


def _void_reason(store: LocalStore, sale_id: str) -> str | None:
    """The manager's reason, as the audit chain recorded it with the void."""
    rows = store.query(
        "SELECT detail FROM audit_log WHERE action = 'void'"
        " AND json_extract(detail, '$.sale_id') = ? ORDER BY id DESC LIMIT 1",
        (sale_id,),
    )
    return str(json.loads(rows[0]["detail"]).get("reason") or "") or None if rows else None


def _age_check(sale: object) -> AgeCheck | None:
    """The age confirmation kept with the sale (``AgeCheck.as_record()``), when the till
    recorded one; an unreadable record is logged and left off the receipt."""
    keys = sale.keys() if hasattr(sale, "keys") else []
    if "age_check" not in keys:
        return None
    raw = sale["age_check"]  # type: ignore[index]
    if not raw:
        return None
    try:
        return AgeCheck.from_record(json.loads(raw))
    except (AgeCheckError, TypeError, ValueError) as exc:
        log.warning("sale %s: age check not printed: %s", sale["sale_id"], exc)  # type: ignore[index]
        return None


def remote_sale_facts(
    view: ReceiptAnswer,
    *,
    lang: str,
    names: NameLookup | None = None,
    rate_of: RateLookup | None = None,
) -> ReceiptFacts:
    """Receipt facts from ``GET /v1/sales/{id}/receipt`` (a sale of another till).

    A line without a tax rate (a sale finalized before rates were sent) takes the catalog's
    rate when the catalog knows the product, else the standard 10%: never the reduced rate
    on a guess."""
    return ReceiptFacts(
        sale_number=view.sale_number or view.sale_id,
        sale_id=view.sale_id,
        store_id=view.store_id,
        terminal_id=view.terminal_id,
        cashier_id=view.cashier_id,
        at=view.created_at,
        currency=view.currency,
        total=view.total,
        lines=tuple(
            _remote_line(line, lang=lang, names=names, rate_of=rate_of) for line in view.lines
        ),
        wallet_masked=view.wallet_masked or None,
        authorization_id=view.authorization_id or None,
        offline=view.offline_accepted_at is not None,
    )


def _remote_line(
    line: ReceiptLineAnswer,
    *,
    lang: str,
    names: NameLookup | None,
    rate_of: RateLookup | None,
) -> ReceiptLine:
    sku = line.sku or ""
    rate = line.tax_rate
    if rate is None and rate_of is not None:
        rate = rate_of(sku)
    return ReceiptLine(
        name=(names(sku, lang) if names else None) or line.name or sku,
        quantity=line.quantity or 0,
        unit_price=line.unit_price or 0,
        line_total=line.line_total or 0,
        tax_rate=rate if rate is not None else STANDARD_RATE,
    )
