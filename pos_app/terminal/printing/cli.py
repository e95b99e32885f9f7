"""``pos-app receipt``: IT's test page, and a sale's receipt printed again or saved as a file.

pos-app receipt test --printer tcp://192.0.2.10:9100     # a full sample invoice
pos-app receipt test --out sample.pdf                    # the same as PDF (or .png)
pos-app receipt print SALE_ID [--out FILE.pdf]           # reprint a sale of this till
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from pos_app.terminal.settings.options import add_config_option, add_data_dir_option

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    receipt = subparsers.add_parser(
        "receipt",
        help="print or save receipts (test page, reprint)",
        description="Print a sample invoice on a printer, or reprint / save a sale's receipt.",
    )
    sub = receipt.add_subparsers(dest="receipt_command", metavar="ACTION", required=True)
    test = sub.add_parser(
        "test",
        help="print a full sample invoice (8%% and 10%% lines) or write it to a file",
        description="IT's test page: a sample qualified invoice with 8% and 10% lines.",
    )
    _common(test)
    test.add_argument("--printer", help="tcp://HOST:PORT or usb://VID:PID ([printer] url)")
    test.set_defaults(handler=_test)
    reprint = sub.add_parser("print", help="print a recorded sale's receipt again, or save it")
    reprint.add_argument("sale_id", help="the sale's id (the manager window shows it)")
    _common(reprint)
    reprint.add_argument("--void", action="store_true", help="print the void slip instead")
    add_data_dir_option(reprint)
    reprint.set_defaults(handler=_print)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="write a .pdf or .png instead of printing")
    parser.add_argument(
        "--lang", choices=("ja", "en"), help="receipt language ([printer] language)"
    )
    parser.add_argument("--paper", type=int, choices=(58, 80), help="paper width in mm")
    add_config_option(parser)


def _settings(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    from pos_app.terminal.settings.loader import load_settings

    settings = load_settings(user_file=args.config).settings
    printer = settings.printer
    printer = replace(
        printer,
        url=getattr(args, "printer", None) or printer.url,
        language=args.lang or printer.language,
        paper_mm=args.paper or printer.paper_mm,
    )
    return replace(settings, printer=printer)


def _test(args: argparse.Namespace) -> int:
    from pos_app.core.errors import PosError

    try:
        settings = _settings(args)
        return _emit_test(args, settings)
    except PosError as exc:
        return _fail(exc.message, EXIT_USAGE if exc.code.startswith("config") else EXIT_FAILED)


def _emit_test(args: argparse.Namespace, settings: Any) -> int:
    from pos_app.terminal.printing.document import ReceiptIssuer, build_receipt
    from pos_app.terminal.printing.escpos_job import job_bytes
    from pos_app.terminal.printing.printers import open_printer
    from pos_app.terminal.printing.render import Paper
    from pos_app.terminal.printing.sample import sample_sale
    from pos_app.terminal.printing.service import issuer_from_settings, save_document

    issuer = issuer_from_settings(settings)
    if not issuer.registration_number:
        issuer = ReceiptIssuer(issuer.name or "pos-app", "T7000012050002", issuer.store_name)
    lang, paper = settings.printer.language, Paper.of(settings.printer.paper_mm)
    doc = build_receipt(sample_sale(lang=lang, at=int(time.time())), issuer=issuer, lang=lang)
    if args.out:
        save_document(doc, args.out, paper=paper)
        print(f"sample invoice written to {args.out}")
        return EXIT_OK
    if not settings.printer.url:
        return _fail("no printer: give --printer tcp://HOST:9100 or set [printer] url", EXIT_USAGE)
    printer = open_printer(settings.printer.url)
    status = printer.send(job_bytes(doc, paper=paper, japanese=settings.printer.japanese))
    print(
        f"sample invoice sent to {printer.description}"
        + (" (paper low)" if status.paper_low else "")
    )
    return EXIT_OK


def _print(args: argparse.Namespace) -> int:
    from pos_app.core.catalog import Catalog
    from pos_app.core.errors import PosError
    from pos_app.terminal.paths import catalog_dir
    from pos_app.terminal.printing.service import build_receipt_service, save_document
    from pos_app.terminal.settings.loader import data_dir
    from pos_app.terminal.store.db import open_store

    try:
        settings = _settings(args)
        store = open_store(args.data_dir or data_dir(settings))
        catalog = Catalog.from_dir(catalog_dir(settings.terminal.catalog_dir))
        service = build_receipt_service(settings, store, catalog=catalog)
        if args.out:
            doc = service.receipt(args.sale_id)
            save_document(doc, args.out, paper=_paper(settings))
            print(f"receipt of {args.sale_id} written to {args.out}")
            return EXIT_OK
        job = service.print_void(args.sale_id) if args.void else service.reprint(args.sale_id)
        printed = service.pump()
        state = service.state()
        if printed == 0 and state.fault is not None:
            print(f"receipt queued (job {job}); the printer is not ready: {state.fault_message}")
            return EXIT_FAILED
        print(f"receipt of {args.sale_id} printed")
        return EXIT_OK
    except PosError as exc:
        return _fail(exc.message, EXIT_USAGE if exc.code.startswith("config") else EXIT_FAILED)


def _paper(settings: Any) -> Any:
    from pos_app.terminal.printing.render import Paper

    return Paper.of(settings.printer.paper_mm)


def _fail(message: str, code: int) -> int:
    print(f"pos-app receipt: {message}", file=sys.stderr)
    return code
