"""Amounts on the manager's pages read in the sale's own currency, on every line."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

from pos_app.core.basket import BasketLine
from pos_app.demo.seed_reviews import ONIGIRI, TEA
from pos_app.terminal.reviews.detail import load_detail
from pos_app.terminal.shift_report import compute_report
from pos_app.terminal.store.db import LocalStore, open_store
from pos_app.terminal.store.sales_repo import SaleRecord, save_sale
from pos_app.ui.manager.detail import render_detail
from pos_app.ui.manager.report_page import render_report, report_pairs

NOW = 1_795_000_000
JST = timezone(timedelta(hours=9))


def _usd_till(tmp_path: Path) -> LocalStore:
    """A till set to USD: the catalog's prices read as cents (150 -> $1.50, 140 -> $1.40)."""
    store = open_store(tmp_path)
    lines = (BasketLine(ONIGIRI, 2), BasketLine(TEA, 1))
    save_sale(
        store,
        SaleRecord(
            "usd-1",
            "S001",
            "T01",
            "C042",
            "USD",
            440,
            "approved",
            lines,
            NOW - 60,
            authorization_id="a1",
            risk={"action": "review", "score": 70, "reasons": ["cash_convertible_basket"]},
            token_facts={"limit": 2500},
        ),
    )
    save_sale(
        store,
        SaleRecord("jpy-1", "S001", "T01", "C042", "JPY", 150, "approved", lines[:1], NOW - 50),
    )
    return store


def test_sale_detail_shows_the_sales_currency_on_every_line(tmp_path: Path) -> None:
    html = render_detail(load_detail(_usd_till(tmp_path), "usd-1"), lang="en", tz=JST)
    assert "¥" not in html
    for amount in ("$1.50", "$3.00", "$1.40", "$4.40", "$25.00"):
        assert amount in html, amount


def test_shift_report_reads_in_the_tills_currency(tmp_path: Path) -> None:
    store = _usd_till(tmp_path)
    usd = compute_report(store, "S001", currency="USD", since=0, until=NOW)
    assert (usd.sales_count, usd.sales_value, usd.currency) == (1, 440, "USD")
    page = render_report(usd, lang="en", tz=JST, printed=NOW)
    assert "$4.40" in page and "¥" not in page
    _title, pairs = report_pairs(usd, lang="en", tz=JST)
    assert ("Sales", "1  $4.40") in pairs
    jpy = compute_report(store, "S001", currency="JPY", since=0, until=NOW)
    assert (jpy.sales_count, jpy.sales_value) == (1, 150)  # the yen sale is not summed as cents
    assert "¥150" in render_report(jpy, lang="en", tz=JST, printed=NOW)
