"""What a receipt says: a qualified simplified invoice (適格簡易請求書), a void slip, a report.

The builders here decide the content and its order; they know nothing of paper, PDF or
printers. A :class:`Document` is a list of rows (left text, right text, emphasis, rules) that
every output renders the same way: ESC/POS text or raster, PNG and PDF.

What the invoice carries (the National Tax Agency's list for a simplified invoice): the
issuer's name and registration number, the date, what was sold with the reduced-rate (8%)
items marked, the total per tax rate and the tax per rate, rounded once per rate per receipt.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo

from pos_app.core.age_check import CUSTOMER, AgeCheck
from pos_app.core.basket import tax_by_rate
from pos_app.core.i18n import N_, Messages
from pos_app.core.money import format_money

REDUCED_MARK = "※"


@dataclass(frozen=True, slots=True)
class Row:
    left: str = ""
    right: str = ""
    center: bool = False
    bold: bool = False
    big: bool = False  # double width and height: the total and the title
    rule: bool = False  # a separator across the paper


@dataclass(frozen=True, slots=True)
class Document:
    kind: str  # "receipt", "void", "shift_report", "test"
    title: str
    rows: tuple[Row, ...]

    def to_json(self) -> str:
        return json.dumps(
            {"kind": self.kind, "title": self.title, "rows": [asdict(r) for r in self.rows]},
            ensure_ascii=False,
        )

    @staticmethod
    def from_json(text: str) -> Document:
        data = json.loads(text)
        rows = tuple(Row(**r) for r in data["rows"])
        return Document(kind=str(data["kind"]), title=str(data["title"]), rows=rows)

    def text(self) -> str:
        """Plain text of every row (logs, tests, the e-receipt's alt text)."""
        return "\n".join(f"{r.left} {r.right}".strip() for r in self.rows if not r.rule)


@dataclass(frozen=True, slots=True)
class ReceiptIssuer:
    name: str
    registration_number: str  # canonical "T" + 13 digits (pos_app.core.invoice)
    store_name: str = ""


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    name: str
    quantity: int
    unit_price: int
    line_total: int
    tax_rate: int  # percent: 8 reduced, 10 standard


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """Everything a receipt or a void slip needs, from the till's store or the backend."""

    sale_number: str
    sale_id: str
    store_id: str
    terminal_id: str
    cashier_id: str
    at: int
    currency: str
    total: int
    lines: tuple[ReceiptLine, ...]
    wallet_masked: str | None = None
    authorization_id: str | None = None
    offline: bool = False
    age_check: AgeCheck | None = None
    voided_at: int | None = None
    void_reason: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)


_LABELS = Messages(
    N_("receipt.invoice", "Receipt (qualified invoice)"),
    N_("receipt.receipt", "Receipt"),
    N_("receipt.registration", "Registration no."),
    N_("receipt.store", "Store"),
    N_("receipt.terminal", "Till"),
    N_("receipt.cashier", "Cashier"),
    N_("receipt.sale_no", "Sale no."),
    N_("receipt.subtotal_rate", "Items at {rate}%"),
    N_("receipt.tax_in", "  incl. tax"),
    N_("receipt.total", "TOTAL"),
    N_("receipt.wallet", "QR wallet payment"),
    N_("receipt.wallet_id", "Wallet"),
    N_("receipt.authorization", "Authorization"),
    N_("receipt.offline", "Accepted offline (settles when the network returns)"),
    N_("receipt.age_check", "Age check (20+)"),
    N_("receipt.age_customer_display", "confirmed on customer display"),
    N_("receipt.age_cashier_visual", "checked by cashier"),
    N_("receipt.reduced_note", "{mark} reduced tax rate (8%) item"),
    N_("receipt.items", "Items"),
    N_("receipt.void_title", "VOID SLIP"),
    N_("receipt.void_of", "Voids sale"),
    N_("receipt.void_reason", "Reason"),
    N_("receipt.refund", "Refunded"),
    N_("receipt.voided_at", "Voided at"),
    N_("receipt.test_title", "TEST PRINT"),
)

_WEEKDAYS_JA = "月火水木金土日"


def label(key: str, lang: str, **values: object) -> str:
    """A receipt's label in ``lang`` (English here, other languages from the catalogue)."""
    return _LABELS.text(f"receipt.{key}", lang, **values)


def format_when(at: int, *, lang: str, tz: tzinfo | None) -> str:
    moment = datetime.fromtimestamp(at, tz).astimezone(tz)
    if lang == "ja":
        return f"{moment:%Y年%m月%d日}({_WEEKDAYS_JA[moment.weekday()]}) {moment:%H:%M}"
    return f"{moment:%Y-%m-%d %a %H:%M}"


def _header(
    issuer: ReceiptIssuer, sale: ReceiptFacts, *, lang: str, tz: tzinfo | None
) -> list[Row]:
    rows = [Row(issuer.name, center=True, bold=True)]
    if issuer.store_name:
        rows.append(Row(issuer.store_name, center=True))
    if issuer.registration_number:
        rows.append(Row(f"{label('registration', lang)} {issuer.registration_number}", center=True))
    rows += [
        Row(format_when(sale.at, lang=lang, tz=tz)),
        Row(
            f"{label('store', lang)} {sale.store_id}  {label('terminal', lang)} {sale.terminal_id}"
            f"  {label('cashier', lang)} {sale.cashier_id}"
        ),
        Row(label("sale_no", lang), sale.sale_number),
    ]
    return rows


def _line_rows(sale: ReceiptFacts) -> list[Row]:
    rows: list[Row] = []
    for line in sale.lines:
        mark = REDUCED_MARK if line.tax_rate < 10 else ""
        if line.quantity == 1:
            rows.append(Row(f"{line.name}{mark}", format_money(line.line_total, sale.currency)))
        else:
            rows.append(Row(f"{line.name}{mark}"))
            each = format_money(line.unit_price, sale.currency)
            rows.append(
                Row(f"  {each} x {line.quantity}", format_money(line.line_total, sale.currency))
            )
    return rows


def _tax_rows(sale: ReceiptFacts, *, lang: str) -> list[Row]:
    rows: list[Row] = []
    for tax in tax_by_rate((line.tax_rate, line.line_total) for line in sale.lines):
        rate_label = label("subtotal_rate", lang, rate=tax.rate)
        if tax.rate < 10:
            rate_label += f" {REDUCED_MARK}"
        rows.append(Row(rate_label, format_money(tax.gross, sale.currency)))
        rows.append(Row(label("tax_in", lang), format_money(tax.tax, sale.currency)))
    return rows


def _payment_rows(sale: ReceiptFacts, *, lang: str, tz: tzinfo | None) -> list[Row]:
    rows = [Row(label("wallet", lang), format_money(sale.total, sale.currency))]
    if sale.wallet_masked:
        rows.append(Row(f"  {label('wallet_id', lang)}", sale.wallet_masked))
    if sale.authorization_id:
        rows.append(Row(f"  {label('authorization', lang)}", sale.authorization_id))
    if sale.offline:
        rows.append(Row(label("offline", lang), bold=True))
    if sale.age_check is not None:
        how = label(f"age_{sale.age_check.method}", lang)
        when = format_when(sale.age_check.at, lang=lang, tz=tz)
        rows.append(Row(label("age_check", lang)))
        who = "" if sale.age_check.confirmed_by == CUSTOMER else f" {sale.age_check.confirmed_by}"
        rows.append(Row(f"  {how}{who}", when[-5:]))
    return rows


def build_receipt(
    sale: ReceiptFacts, *, issuer: ReceiptIssuer, lang: str = "ja", tz: tzinfo | None = None
) -> Document:
    """The customer's receipt: a qualified simplified invoice."""
    items = sum(line.quantity for line in sale.lines)
    rows = [
        *_header(issuer, sale, lang=lang, tz=tz),
        Row(
            label("invoice" if issuer.registration_number else "receipt", lang),
            center=True,
            bold=True,
        ),
        Row(rule=True),
        *_line_rows(sale),
        Row(rule=True),
        Row(label("items", lang), str(items)),
        *_tax_rows(sale, lang=lang),
        Row(label("total", lang), format_money(sale.total, sale.currency), bold=True, big=True),
        Row(rule=True),
        *_payment_rows(sale, lang=lang, tz=tz),
        Row(rule=True),
    ]
    if any(line.tax_rate < 10 for line in sale.lines):
        rows.append(Row(label("reduced_note", lang, mark=REDUCED_MARK)))
    return Document(kind="receipt", title=f"{sale.sale_number}", rows=tuple(rows))


def build_void_slip(
    sale: ReceiptFacts, *, issuer: ReceiptIssuer, lang: str = "ja", tz: tzinfo | None = None
) -> Document:
    """A void slip naming the original sale; the refund is the original total."""
    voided = sale.voided_at if sale.voided_at is not None else sale.at
    rows = [
        *_header(issuer, sale, lang=lang, tz=tz),
        Row(label("void_title", lang), center=True, bold=True, big=True),
        Row(rule=True),
        Row(label("void_of", lang), sale.sale_number),
        Row(label("voided_at", lang), format_when(voided, lang=lang, tz=tz)),
        *_line_rows(sale),
        Row(rule=True),
        *_tax_rows(sale, lang=lang),
        Row(label("refund", lang), format_money(-sale.total, sale.currency), bold=True, big=True),
    ]
    if sale.authorization_id:
        rows.append(Row(f"  {label('authorization', lang)}", sale.authorization_id))
    if sale.void_reason:
        rows.append(Row(f"{label('void_reason', lang)}: {sale.void_reason}"))
    return Document(kind="void", title=f"VOID {sale.sale_number}", rows=tuple(rows))


def build_report(title: str, pairs: list[tuple[str, str]]) -> Document:
    """A shift (X/Z) report or any key/value page, printed as it is shown."""
    rows = [Row(title, center=True, bold=True, big=True), Row(rule=True)]
    rows += [Row(k, v) for k, v in pairs]
    return Document(kind="shift_report", title=title, rows=tuple(rows))
