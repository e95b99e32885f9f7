"""finalize decides a sale as a plain ``SaleDraft`` and writes it with one INSERT; the
draft must carry every column of ``sales`` (a column added to the model and not to the
draft would be written as NULL by the usual path only)."""

from __future__ import annotations

from dataclasses import fields

from pos_app.server.models import Sale
from pos_app.server.sales import SaleDraft


def test_the_draft_has_every_column_of_sales() -> None:
    columns = {column.name for column in Sale.__table__.columns}
    assert {f.name for f in fields(SaleDraft)} == columns


def test_to_orm_keeps_the_values_and_leaves_the_rest_unset() -> None:
    draft = SaleDraft(
        sale_id="s-1",
        store_id="S001",
        terminal_id="T01",
        cashier_id="c-1",
        currency="JPY",
        total=280,
        lines=[{"sku": "x", "quantity": 1}],
        status="step_up_required",
        risk={"score": 0, "action": "allow", "reasons": []},
        created_at=10,
        updated_at=11,
        wallet_id="w-1",
        store_region="",
    )
    sale = draft.to_orm()
    assert (sale.sale_id, sale.status, sale.total, sale.store_region) == (
        "s-1",
        "step_up_required",
        280,
        "",
    )
    # Columns the draft left at None are not set on the ORM object (a JSON column set to
    # None would be written as JSON null, not SQL NULL).
    assert "risk_explanation" not in sale.__dict__ and sale.risk_explanation is None


def test_the_insert_fills_only_plain_defaults() -> None:
    """``finalize._insert_sale`` writes a column's default when the draft holds None: it
    must be a plain value (a callable or SQL default would be written as an object), and
    no column may rely on a server default the INSERT would override with NULL."""
    from pos_app.server.finalize import _SALE_COLUMNS

    for column in Sale.__table__.columns:
        assert column.server_default is None, column.name
        default = column.default
        assert default is None or getattr(default, "is_scalar", False), column.name
    assert {name for name, default, _ in _SALE_COLUMNS if default is not None} == {
        "cc_total",
        "tobacco_total",
        "store_region",
    }
