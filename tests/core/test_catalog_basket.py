from pathlib import Path

import pytest

from pos_app.core.basket import MAX_QUANTITY, Basket
from pos_app.core.catalog import COLUMNS, Catalog, Product, read_csv
from pos_app.core.categories import Category
from pos_app.core.errors import BarcodeError, BasketError, CatalogError
from pos_app.core.money import Money

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "catalog"


def product(gtin: str, price: int, rate: int, category: Category = Category.FOOD) -> Product:
    return Product(gtin, f"item {gtin}", "品", category, price, rate, False)


def test_demo_catalog_is_a_realistic_store() -> None:
    catalog = Catalog.from_dir(ASSETS)
    assert 140 <= len(catalog) <= 200
    categories = {p.category for p in catalog}
    assert categories == set(Category)
    assert all(p.gtin[:2] in {"45", "49"} for p in catalog)  # JAN prefixes
    assert all(p.name_ja for p in catalog)
    assert all(p.tax_rate == 8 for p in catalog if p.category in {Category.FOOD, Category.BEVERAGE})
    assert all(p.age_restricted for p in catalog if p.category is Category.TOBACCO)


def test_lookup_by_scanned_code() -> None:
    catalog = Catalog.from_dir(ASSETS)
    first = next(iter(catalog))
    assert catalog.lookup(first.gtin) is first
    with pytest.raises(CatalogError, match="key the price in manually") as info:
        catalog.lookup("4006381333931")
    assert info.value.code == "unknown_product"
    with pytest.raises(BarcodeError):
        catalog.lookup("4006381333932")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("4006381333931,Pen,ペン,food,abc,8,false", "price 'abc'"),
        ("4006381333931,Pen,ペン,weapons,100,8,false", "category 'weapons'"),
        ("4006381333931,Pen,ペン,food,100,5,false", "tax_rate '5'"),
        ("4006381333932,Pen,ペン,food,100,8,false", "check digit"),
        ("4006381333931,Pen,ペン,food,100,8,maybe", "age_restricted"),
        ("4006381333931,,ペン,food,100,8,false", "name_en is empty"),
    ],
)
def test_bad_catalog_rows_name_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(",".join(COLUMNS) + "\n" + row + "\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=message) as info:
        list(read_csv(path))
    assert f"{path}:2" in info.value.message


def test_duplicate_gtin_and_bad_header(tmp_path: Path) -> None:
    row = "4006381333931,Pen,ペン,food,100,8,false"
    (tmp_path / "a.csv").write_text(",".join(COLUMNS) + f"\n{row}\n{row}\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="duplicate GTIN"):
        Catalog.from_dir(tmp_path)
    (tmp_path / "a.csv").write_text("gtin,name\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="header must be"):
        Catalog.from_dir(tmp_path)
    with pytest.raises(CatalogError, match="no catalog files"):
        Catalog.from_dir(tmp_path / "missing")


def test_basket_totals_and_japanese_tax() -> None:
    basket = Basket("JPY")
    onigiri = product("4006381333931", 150, 8)
    beer = product("9780306406157", 228, 10, Category.ALCOHOL)
    basket.add(onigiri)
    basket.add(onigiri)  # same product raises the quantity, not a new line
    basket.add(beer, 3)
    assert len(basket) == 2
    assert basket.lines[0].quantity == 2
    assert basket.total == Money(300 + 684, "JPY")
    assert basket.item_count == 5
    eight, ten = basket.tax_breakdown()
    # Tax contained in a tax-inclusive amount, rounded down once per rate.
    assert (eight.rate, eight.gross, eight.tax) == (8, 300, 22)  # 300*8/108 = 22.2
    assert (ten.rate, ten.gross, ten.tax) == (10, 684, 62)  # 684*10/110 = 62.18


def test_basket_quantity_changes_and_removal() -> None:
    basket = Basket()
    basket.add(product("4006381333931", 150, 8))
    basket.add(product("9780306406157", 200, 10))
    basket.set_quantity(0, 4)
    assert basket.total.amount == 800
    removed = basket.remove(1)
    assert removed.product.gtin == "9780306406157"
    assert basket.total.amount == 600
    with pytest.raises(BasketError, match="no line 5"):
        basket.remove(4)
    for bad in (0, -1, MAX_QUANTITY + 1, 1.5, True):
        with pytest.raises(BasketError):
            basket.set_quantity(0, bad)  # type: ignore[arg-type]
    with pytest.raises(BasketError, match="between 1 and"):
        basket.add(product("4006381333931", 150, 8), MAX_QUANTITY)
    basket.clear()
    assert basket.total.amount == 0 and basket.tax_breakdown() == ()


def test_basket_line_as_api() -> None:
    basket = Basket()
    line = basket.add(product("4006381333931", 140, 8, Category.BEVERAGE), 2)
    assert line.as_api() == {
        "sku": "4006381333931",
        "name": "item 4006381333931",
        "category": "beverage",
        "quantity": 2,
        "unit_price": 140,
        "line_total": 280,
        "tax_rate": 8,
    }
