"""Product catalog loaded from CSV files.

Columns: ``gtin,name_en,name_ja,category,price,tax_rate,age_restricted``.
``price`` is tax-inclusive in minor units (Japanese shelf prices include
consumption tax); ``tax_rate`` is the percentage (8 reduced rate for food and
non-alcoholic drinks, 10 standard).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pos_app.core.categories import Category
from pos_app.core.errors import BarcodeError, CatalogError
from pos_app.core.gtin import parse_gtin

COLUMNS = ("gtin", "name_en", "name_ja", "category", "price", "tax_rate", "age_restricted")
TAX_RATES = frozenset({8, 10})
_BOOL = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass(frozen=True, slots=True)
class Product:
    gtin: str  # normalised 13-digit key
    name_en: str
    name_ja: str
    category: Category
    price: int  # tax-inclusive, minor units
    tax_rate: int  # percent
    age_restricted: bool

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" and self.name_ja else self.name_en


class Catalog:
    def __init__(self, products: Iterable[Product]) -> None:
        self._by_gtin: dict[str, Product] = {}
        for product in products:
            if product.gtin in self._by_gtin:
                raise CatalogError(f"duplicate GTIN {product.gtin} in the catalog")
            self._by_gtin[product.gtin] = product

    def __len__(self) -> int:
        return len(self._by_gtin)

    def __iter__(self) -> Iterator[Product]:
        return iter(self._by_gtin.values())

    def lookup(self, code: str, *, symbology: str | None = None) -> Product:
        """Find the product for a scanned code; raise with what the cashier should do."""
        try:
            key = parse_gtin(code, symbology=symbology).key
        except BarcodeError:
            raise
        product = self._by_gtin.get(key)
        if product is None:
            raise CatalogError(
                f"no product with barcode {code}: key the price in manually or set the item aside",
                code="unknown_product",
            )
        return product

    @classmethod
    def from_dir(cls, directory: Path) -> Catalog:
        files = sorted(directory.glob("*.csv"))
        if not files:
            raise CatalogError(f"no catalog files (*.csv) in {directory}")
        return cls(p for f in files for p in read_csv(f))


def read_csv(path: Path) -> Iterator[Product]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise CatalogError(f"{path}: header must be {','.join(COLUMNS)}")
        for row in reader:
            yield _product(row, where=f"{path}:{reader.line_num}")


def _product(row: dict[str, str], *, where: str) -> Product:
    try:
        gtin = parse_gtin(row["gtin"]).key
    except BarcodeError as exc:
        raise CatalogError(f"{where}: {exc.message}") from None
    try:
        category = Category(row["category"])
    except ValueError:
        allowed = ", ".join(c.value for c in Category)
        raise CatalogError(
            f"{where}: category {row['category']!r} is not one of {allowed}"
        ) from None
    price, rate = row["price"], row["tax_rate"]
    if not price.isdigit() or int(price) <= 0:
        raise CatalogError(f"{where}: price {price!r} must be a positive integer (minor units)")
    if not rate.isdigit() or int(rate) not in TAX_RATES:
        raise CatalogError(f"{where}: tax_rate {rate!r} must be 8 or 10")
    flag = _BOOL.get(row["age_restricted"].strip().lower())
    if flag is None:
        raise CatalogError(f"{where}: age_restricted {row['age_restricted']!r} must be true/false")
    if not row["name_en"].strip():
        raise CatalogError(f"{where}: name_en is empty")
    return Product(
        gtin, row["name_en"].strip(), row["name_ja"].strip(), category, int(price), int(rate), flag
    )
