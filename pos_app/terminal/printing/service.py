"""Receipts for the till: built from what the sale recorded, queued for the printer, or saved.

The UI calls :meth:`ReceiptService.on_approved` when a sale is approved (printing only when
``[printer] auto_print`` is on), :meth:`reprint` from the till's reprint key or the manager
window, :meth:`print_void` after a void and :meth:`print_report` for an X/Z report. None of
them waits for the printer: a job is stored first, printed by :meth:`pump`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from pos_app.core.api_contract import ReceiptAnswer
from pos_app.core.catalog import Catalog
from pos_app.core.errors import BackendError, CatalogError, ConfigError, PosError
from pos_app.core.invoice import parse_registration_number
from pos_app.terminal.printing.document import (
    Document,
    ReceiptFacts,
    ReceiptIssuer,
    build_receipt,
    build_report,
    build_void_slip,
)
from pos_app.terminal.printing.facts import load_sale_facts, remote_sale_facts
from pos_app.terminal.printing.printers import open_printer
from pos_app.terminal.printing.queue import PrintQueue, QueueState
from pos_app.terminal.printing.render import Paper, render_pdf, write_png
from pos_app.terminal.settings.schema import Settings
from pos_app.terminal.store.db import LocalStore

log = logging.getLogger(__name__)


RemoteReceipts = Callable[[str], ReceiptAnswer]  # BackendClient.get_sale_receipt


class ReceiptNotFound(PosError):
    code = "receipt_sale_unknown"


def issuer_from_settings(settings: Settings) -> ReceiptIssuer:
    """The issuer printed on invoices; a bad registration number is a ConfigError naming the key."""
    r = settings.receipt
    number = parse_registration_number(r.registration_number) if r.registration_number else ""
    return ReceiptIssuer(
        name=r.issuer_name or r.store_name or "",
        registration_number=number,
        store_name=r.store_name,
    )


def save_document(doc: Document, path: Path, *, paper: Paper) -> None:
    """Write a receipt as PDF or PNG, chosen by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        path.write_bytes(render_pdf(doc, paper=paper))
    elif suffix == ".png":
        write_png(doc, path, paper=paper)
    else:
        raise ConfigError(f"cannot write a receipt as {path.name!r}: name a .pdf or .png file")


@dataclass(frozen=True, slots=True)
class ReceiptOptions:
    lang: str
    auto_print: bool
    paper: Paper
    tz: tzinfo | None = None


class ReceiptService:
    def __init__(
        self,
        store: LocalStore,
        queue: PrintQueue,
        *,
        issuer: ReceiptIssuer,
        options: ReceiptOptions,
        catalog: Catalog | None = None,
        remote: RemoteReceipts | None = None,
    ) -> None:
        self._store, self._queue, self._issuer = store, queue, issuer
        self._options, self._catalog = options, catalog
        self._remote = remote

    @property
    def queue(self) -> PrintQueue:
        return self._queue

    def product_name(self, sku: str, lang: str) -> str | None:
        """The catalog's name of a product in ``lang``; None when the catalog does not know it."""
        return self._name(sku, lang)

    def _name(self, sku: str, lang: str) -> str | None:
        if self._catalog is None:
            return None
        try:
            return self._catalog.lookup(sku).name(lang)
        except CatalogError:
            return None

    def _rate(self, sku: str) -> int | None:
        if self._catalog is None:
            return None
        try:
            return self._catalog.lookup(sku).tax_rate
        except CatalogError:
            return None

    def facts(self, sale_id: str) -> ReceiptFacts:
        """The sale as this till recorded it; a sale of another till, as the backend keeps it."""
        lang = self._options.lang
        facts = load_sale_facts(self._store, sale_id, lang=lang, names=self._name)
        if facts is not None:
            return facts
        if self._remote is None:
            raise ReceiptNotFound(f"sale {sale_id} is not recorded at this till")
        try:
            view = self._remote(sale_id)
        except BackendError as exc:
            raise ReceiptNotFound(
                f"sale {sale_id} is not recorded at this till and the backend did not give it"
                f" ({exc.message}): try again when the till is online"
            ) from None
        return remote_sale_facts(view, lang=lang, names=self._name, rate_of=self._rate)

    def receipt(self, sale_id: str) -> Document:
        o = self._options
        return build_receipt(self.facts(sale_id), issuer=self._issuer, lang=o.lang, tz=o.tz)

    def on_approved(self, sale_id: str) -> int | None:
        """Queue the receipt of a sale just approved, when receipts print automatically."""
        if not (self._options.auto_print and self._queue.configured):
            return None
        return self._queue.submit(self.receipt(sale_id), sale_id=sale_id)

    def reprint(self, sale_id: str) -> int:
        return self._queue.submit(self.receipt(sale_id), sale_id=sale_id)

    def print_void(self, sale_id: str) -> int:
        o = self._options
        doc = build_void_slip(self.facts(sale_id), issuer=self._issuer, lang=o.lang, tz=o.tz)
        return self._queue.submit(doc, sale_id=sale_id)

    def print_report(self, title: str, pairs: list[tuple[str, str]]) -> int:
        return self._queue.submit(build_report(title, pairs))

    def save(self, sale_id: str, path: Path) -> None:
        save_document(self.receipt(sale_id), path, paper=self._options.paper)

    def pump(self) -> int:
        return self._queue.pump()

    def state(self) -> QueueState:
        return self._queue.state()


def build_receipt_service(
    settings: Settings,
    store: LocalStore,
    *,
    catalog: Catalog | None = None,
    remote: RemoteReceipts | None = None,
) -> ReceiptService:
    """Wire the receipt service from settings; a printer address error stops start-up."""
    p = settings.printer
    paper = Paper.of(p.paper_mm)
    printer = open_printer(p.url) if p.url else None
    queue = PrintQueue(store, printer, paper=paper, japanese=p.japanese)
    try:
        issuer = issuer_from_settings(settings)
    except ConfigError as exc:
        # A wrong registration number must not stop sales: receipts print without it and
        # doctor reports the setting; the log says the same.
        log.error("receipts print without a registration number: %s", exc.message)
        issuer = ReceiptIssuer(settings.receipt.issuer_name, "", settings.receipt.store_name)
    options = ReceiptOptions(lang=p.language, auto_print=p.auto_print, paper=paper)
    return ReceiptService(
        store, queue, issuer=issuer, options=options, catalog=catalog, remote=remote
    )
