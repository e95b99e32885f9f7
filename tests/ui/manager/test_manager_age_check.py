"""The age check in the manager's evidence for a sale (rendered page, both languages)."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest

from pos_app.core.age_check import AgeCheckMethod
from pos_app.core.basket import BasketLine
from pos_app.core.catalog import Product
from pos_app.core.categories import Category
from pos_app.terminal.checkout.types import AgeAnswer
from pos_app.terminal.reviews.detail import load_detail
from pos_app.terminal.store.db import LocalStore, open_store
from pos_app.ui.manager.detail import render_detail
from tests.terminal.checkout_support import offline_till

pytestmark = pytest.mark.age_check

JST = timezone(timedelta(hours=9))
SMOKES = Product("4901234567019", "Cigarettes", "たばこ", Category.TOBACCO, 600, 10, True)


def sale_with_answer(
    tmp_path: Path, *, confirmed: bool, method: AgeCheckMethod
) -> tuple[LocalStore, str]:
    store = open_store(tmp_path)
    till = offline_till(store)  # clock: 2026-11-18 20:06:40 JST
    sale = till.start_payment((BasketLine(SMOKES, 2),), cashier_id="C042")
    attached = method is AgeCheckMethod.CUSTOMER_DISPLAY
    till.answer_age_check(
        sale.sale_id,
        AgeAnswer(confirmed=confirmed, method=method, cashier_id="C042", display_attached=attached),
    )
    return store, sale.sale_id


def test_customer_confirmation_is_shown_with_its_time(tmp_path: Path) -> None:
    store, sale_id = sale_with_answer(
        tmp_path, confirmed=True, method=AgeCheckMethod.CUSTOMER_DISPLAY
    )
    html = render_detail(load_detail(store, sale_id), lang="en", tz=JST)
    assert "Age check (20+)" in html
    assert "20 or older: confirmed" in html
    assert "by the customer on the customer display" in html
    assert "20:06" in html
    ja = render_detail(load_detail(store, sale_id), lang="ja", tz=JST)
    assert "年齢確認（20歳以上）" in ja and "お客様がお客様画面で回答" in ja


def test_cashier_check_and_refusal_name_the_cashier(tmp_path: Path) -> None:
    store, sale_id = sale_with_answer(
        tmp_path, confirmed=False, method=AgeCheckMethod.CASHIER_VISUAL
    )
    html = render_detail(load_detail(store, sale_id), lang="en", tz=JST)
    assert "Not confirmed: tobacco and alcohol removed" in html
    assert "by cashier C042 after a visual check" in html
