"""Receipts: the invoice's fields, ESC/POS jobs on a fake raw-TCP printer, PDF and PNG."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pos_app.core.basket import BasketLine
from pos_app.core.catalog import Catalog
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.paths import catalog_dir
from pos_app.terminal.printing.document import (
    ReceiptFacts,
    ReceiptIssuer,
    build_receipt,
    build_void_slip,
)
from pos_app.terminal.printing.escpos_job import (
    CHARSET_JAPAN,
    KANJI_ON,
    KANJI_SJIS,
    job_bytes,
    layout,
    width,
)
from pos_app.terminal.printing.printers import FaultKind, NetworkPrinter, parse_printer_url
from pos_app.terminal.printing.queue import PrintQueue
from pos_app.terminal.printing.render import Paper, render_image
from pos_app.terminal.printing.sample import sample_sale
from pos_app.terminal.printing.service import ReceiptOptions, ReceiptService, save_document
from pos_app.terminal.store.db import LocalStore, open_store
from pos_app.terminal.store.sales_repo import SaleRecord, save_sale
from tests.terminal.fake_printer import FakePrinter

JST = timezone(timedelta(hours=9))
AT = 1_796_000_000  # 2026-11-30 09:53:20 JST
ISSUER = ReceiptIssuer("ポスアプリ商店株式会社", "T7000012050002", "新宿三丁目店")
INIT, CUT_PREFIX = b"\x1b@", b"\x1dV"


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    p = FakePrinter()
    yield p
    p.close()


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.from_dir(catalog_dir())


def _sale(catalog: Catalog) -> SaleRecord:
    onigiri = catalog.lookup("4549010000007")  # 8%, 160 yen
    goods = next(p for p in catalog if p.tax_rate == 10 and not p.age_restricted)
    lines = (BasketLine(onigiri, 2), BasketLine(goods, 1))
    total = sum(line.line_total for line in lines)
    return SaleRecord(
        "sale-1", "S001", "T01", "C042", "JPY", total, "approved", lines, AT,
        authorization_id="AUTH-77", wallet_masked="****7788",
    )  # fmt: skip


def _service(
    store: LocalStore, printer: FakePrinter | None, catalog: Catalog, **kw: object
) -> ReceiptService:
    paper = Paper.of(int(kw.pop("paper_mm", 80)))  # type: ignore[call-overload]
    queue = PrintQueue(
        store,
        NetworkPrinter("127.0.0.1", printer.port, timeout_s=2) if printer else None,
        paper=paper,
        japanese=str(kw.pop("japanese", "kanji")),
    )
    options = ReceiptOptions(lang=str(kw.pop("lang", "ja")), auto_print=True, paper=paper, tz=JST)
    return ReceiptService(store, queue, issuer=ISSUER, options=options, catalog=catalog)


def _text_of(job: bytes) -> str:
    return job.decode("cp932", errors="replace").replace("\\", "¥")


def test_receipt_carries_every_field_of_a_simplified_invoice(
    store: LocalStore, catalog: Catalog
) -> None:
    save_sale(store, _sale(catalog))
    text = _service(store, None, catalog).receipt("sale-1").text()
    for needle in [
        "ポスアプリ商店株式会社",
        "登録番号 T7000012050002",
        "2026年11月30日(月) 09:53",
        "店舗 S001",
        "レジ T01",
        "担当 C042",
        "取引番号 S001-T01-000001",
        "おにぎり 鮭※",  # the Japanese name from the catalog, marked reduced-rate
        "¥160 x 2 ¥320",
        "8%対象 ※ ¥320",
        "内消費税等 ¥23",  # 320 * 8 // 108
        "ウォレット ****7788",
        "承認番号 AUTH-77",
        "※は軽減税率（8%）対象商品です",
    ]:
        assert needle in text, needle
    assert "10%対象" in text
    assert "オフライン" not in text


def test_offline_and_english(store: LocalStore, catalog: Catalog) -> None:
    save_sale(store, replace(_sale(catalog), offline=True, authorization_id=None))
    text = _service(store, None, catalog, lang="en").receipt("sale-1").text()
    assert "Accepted offline" in text
    assert "Onigiri salmon※" in text
    assert "Registration no. T7000012050002" in text


def test_the_age_check_made_at_the_sale_is_printed(store: LocalStore, catalog: Catalog) -> None:
    save_sale(store, _sale(catalog))
    answer = {"result": "confirmed", "method": "customer_display", "confirmed_by": "customer"}
    with store.transaction() as conn:
        conn.execute(
            "UPDATE sales SET age_check = ? WHERE sale_id = 'sale-1'",
            (json.dumps({**answer, "at": AT - 30}),),
        )
    text = _service(store, None, catalog).receipt("sale-1").text()
    assert "年齢確認（20歳以上）" in text
    assert "お客様画面で確認 09:52" in text
    english = _service(store, None, catalog, lang="en").receipt("sale-1").text()
    assert "confirmed on customer display 09:52" in english


def test_an_unreadable_age_check_record_is_left_off_the_receipt(
    store: LocalStore, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    # Read as core.age_check.AgeCheck reads it: a record without its time is not
    # printed as an age check made at 09:00 on 1 January 1970.
    save_sale(store, _sale(catalog))
    broken = {"result": "confirmed", "method": "customer_display", "confirmed_by": "customer"}
    with store.transaction() as conn:
        conn.execute(
            "UPDATE sales SET age_check = ? WHERE sale_id = 'sale-1'", (json.dumps(broken),)
        )
    text = _service(store, None, catalog).receipt("sale-1").text()
    assert "年齢確認" not in text
    assert "合計" in text
    assert "sale-1: age check not printed" in caplog.text


def test_void_slip_names_the_original_sale(store: LocalStore, catalog: Catalog) -> None:
    save_sale(store, _sale(catalog))
    save_sale(store, replace(_sale(catalog), state="voided", at=AT + 60))
    detail = {"sale_id": "sale-1", "reason": "customer changed mind"}
    append_audit(store, at=AT + 60, actor="M001", action=AuditAction.VOID, detail=detail)
    facts = _service(store, None, catalog).facts("sale-1")
    text = build_void_slip(facts, issuer=ISSUER, lang="ja", tz=JST).text()
    assert "取消伝票" in text
    assert "取消対象の取引 S001-T01-000001" in text
    assert f"返金額 -¥{facts.total:,}" in text
    assert "理由: customer changed mind" in text


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_kanji_job_is_init_shift_jis_text_and_cut(paper_mm: int) -> None:
    doc = build_receipt(sample_sale(lang="ja", at=AT), issuer=ISSUER, lang="ja", tz=JST)
    paper = Paper.of(paper_mm)
    job = job_bytes(doc, paper=paper, japanese="kanji")
    assert job.startswith(INIT)
    assert CHARSET_JAPAN + KANJI_ON + KANJI_SJIS in job
    assert CUT_PREFIX in job[-8:]
    text = _text_of(job)
    assert "登録番号 T7000012050002" in text
    assert re.search(r"¥235 x 2 +¥470", text)
    assert "缶ビール 350ml" in text
    assert "合計" in text
    for row in doc.rows:
        for line in layout(row, paper.columns):
            assert width(line) <= (paper.columns // 2 if row.big else paper.columns)


def _raster_pixels(job: bytes) -> tuple[int, int, bytes]:
    start = job.index(b"\x1dv0")
    wbytes = job[start + 4] + 256 * job[start + 5]
    height = job[start + 6] + 256 * job[start + 7]
    return wbytes, height, job[start + 8 : start + 8 + wbytes * height]


def test_raster_job_is_the_rendered_receipt() -> None:
    doc = build_receipt(sample_sale(lang="ja", at=AT), issuer=ISSUER, lang="ja", tz=JST)
    paper = Paper.of(58)
    job = job_bytes(doc, paper=paper, japanese="raster")
    assert job.startswith(INIT) and CUT_PREFIX in job[-8:]
    wbytes, height, data = _raster_pixels(job)
    assert wbytes * 8 == paper.dots
    expected = render_image(doc, paper=paper).convert("1")
    if height < expected.height:  # python-escpos splits tall images into fragments
        pytest.fail("raster split into fragments: compare the first one only")
    printed = Image.frombytes("1", (paper.dots, height), data).point(lambda v: 255 - v)
    assert printed.tobytes() == expected.convert("1").tobytes()


def test_printer_faults_queue_and_print_in_order(
    store: LocalStore, printer: FakePrinter, catalog: Catalog
) -> None:
    save_sale(store, _sale(catalog))
    service = _service(store, printer, catalog)
    printer.paper_out = True
    service.on_approved("sale-1")
    assert service.pump() == 0
    state = service.state()
    assert (state.waiting, state.fault) == (1, FaultKind.PAPER_OUT)
    assert "load a roll" in state.fault_message
    printer.paper_out, printer.cover_open = False, True
    service.reprint("sale-1")
    assert service.pump() == 0
    assert service.state().fault is FaultKind.COVER_OPEN
    assert printer.jobs == []
    printer.cover_open, printer.paper_low = False, True
    assert service.pump() == 2
    state = service.state()
    assert (state.waiting, state.fault, state.paper_low) == (0, None, True)
    assert len(printer.jobs) == 2
    assert all(re.search("承認番号 +AUTH-77", _text_of(j)) for j in printer.jobs)


def test_unreachable_printer_keeps_the_receipt(store: LocalStore, catalog: Catalog) -> None:
    save_sale(store, _sale(catalog))
    dead = FakePrinter()
    dead.close()  # nothing listens on that port any more
    service = _service(store, dead, catalog)
    service.on_approved("sale-1")
    assert service.pump() == 0
    assert service.state().fault is FaultKind.UNREACHABLE
    back = FakePrinter()
    try:
        service = _service(store, back, catalog)  # the same store: the job survived
        assert service.pump() == 1
        assert "おにぎり 鮭" in _text_of(back.jobs[0])
    finally:
        back.close()


def test_printer_urls() -> None:
    assert str(parse_printer_url("tcp://10.0.0.5")) == "tcp://10.0.0.5:9100"
    assert str(parse_printer_url("usb://04b8:0e28")) == "usb://04b8:0e28"
    for bad in ["lpt1", "usb://epson", "tcp://host:port"]:
        with pytest.raises(Exception, match="tcp://HOST:9100"):
            parse_printer_url(bad)


def _pos_app(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_test_page_as_pdf_png_and_on_the_printer(tmp_path: Path, printer: FakePrinter) -> None:
    pdf, png = tmp_path / "sample.pdf", tmp_path / "sample.png"
    assert _pos_app("receipt", "test", "--out", str(pdf)).returncode == 0
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    for needle in [
        "登録番号 T7000012050002",
        "8%対象",
        "10%対象",
        "内消費税等",
        "合計",
        "※は軽減税率",
    ]:
        assert needle in text, needle
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "NotoSansCJKJP" in fonts and " yes yes yes " in fonts  # embedded, subset, unicode map
    assert _pos_app("receipt", "test", "--out", str(png), "--paper", "58").returncode == 0
    image = Image.open(png).convert("L")
    assert image.width == 2 * Paper.of(58).dots
    dark_rows = int((np.asarray(image).min(axis=1) < 128).sum())
    assert dark_rows > image.height // 3  # text all the way down, not a blank page
    done = _pos_app("receipt", "test", "--printer", printer.url)
    assert done.returncode == 0, done.stderr
    assert len(printer.jobs) == 1 and "缶ビール" in _text_of(printer.jobs[0])
    printer.paper_out = True
    refused = _pos_app("receipt", "test", "--printer", printer.url)
    assert refused.returncode == 1 and "out of paper" in refused.stderr


def test_save_refuses_other_formats(tmp_path: Path) -> None:
    doc = build_receipt(sample_sale(lang="ja", at=AT), issuer=ISSUER, lang="ja", tz=JST)
    with pytest.raises(Exception, match=r"\.pdf or \.png"):
        save_document(doc, tmp_path / "r.txt", paper=Paper.of(80))


def test_sale_facts_round_trip(store: LocalStore, catalog: Catalog) -> None:
    save_sale(store, _sale(catalog))
    facts: ReceiptFacts = _service(store, None, catalog).facts("sale-1")
    assert facts.total == sum(line.line_total for line in facts.lines)
    assert [line.tax_rate for line in facts.lines] == [8, 10]


def _doctor_env(tmp_path: Path, **sections: object) -> object:
    from pos_app.terminal.doctor.env import DoctorEnv
    from pos_app.terminal.settings.schema import Settings

    return DoctorEnv(settings=replace(Settings(), **sections), data_dir=tmp_path)  # type: ignore[arg-type]


def test_doctor_checks_the_printer(tmp_path: Path, printer: FakePrinter) -> None:
    from pos_app.terminal.doctor.checks_printer import check_printer
    from pos_app.terminal.doctor.runner import Status
    from pos_app.terminal.settings.schema import PrinterSettings

    env = _doctor_env(tmp_path, printer=PrinterSettings(url=printer.url))
    assert check_printer(env).status is Status.OK  # type: ignore[arg-type]
    printer.paper_out = True
    found = check_printer(env)  # type: ignore[arg-type]
    assert (found.status, found.fix) == (Status.FAIL, "load a paper roll")
    printer.paper_out, printer.paper_low = False, True
    assert check_printer(env).status is Status.WARN  # type: ignore[arg-type]
    printer.close()
    found = check_printer(env)  # type: ignore[arg-type]
    assert found.status is Status.FAIL and "cannot reach" in found.detail


@pytest.mark.parametrize(
    ("number", "status"), [("", "WARN"), ("T7000012050003", "FAIL"), ("T7000012050002", "OK")]
)
def test_doctor_checks_the_invoice_settings(tmp_path: Path, number: str, status: str) -> None:
    from pos_app.terminal.doctor.checks_printer import check_receipt
    from pos_app.terminal.settings.schema import ReceiptSettings

    env = _doctor_env(
        tmp_path, receipt=ReceiptSettings(issuer_name="X", registration_number=number)
    )
    assert check_receipt(env).status.name == status  # type: ignore[arg-type]


def test_sale_numbers_count_up_and_survive_a_restart(tmp_path: Path, catalog: Catalog) -> None:
    store = open_store(tmp_path / "till")
    save_sale(store, _sale(catalog))
    save_sale(store, replace(_sale(catalog), sale_id="sale-2"))
    save_sale(store, replace(_sale(catalog), state="voided"))  # an update keeps its number
    store.close()
    again = open_store(tmp_path / "till")
    try:
        service = _service(again, None, catalog)
        assert service.facts("sale-1").sale_number == "S001-T01-000001"
        assert service.facts("sale-2").sale_number == "S001-T01-000002"
    finally:
        again.close()
