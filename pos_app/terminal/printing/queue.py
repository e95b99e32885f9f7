"""The print queue: a receipt is stored before it is printed, so a printer fault loses nothing.

``submit`` writes the document (not the printer bytes: a reprint after a paper change uses the
printer settings of that moment) and returns at once; the sale never waits for paper.
``pump`` prints what waits, oldest first, and stops at the first fault, which it remembers for
the status bar ("2 receipts waiting: paper out"). The UI's background lane calls ``pump`` on
every tick; a printer that comes back prints the queue in order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pos_app.terminal.printing.document import Document
from pos_app.terminal.printing.escpos_job import job_bytes
from pos_app.terminal.printing.printers import FaultKind, Printer, PrinterFault
from pos_app.terminal.printing.render import Paper
from pos_app.terminal.store.db import LocalStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QueueState:
    waiting: int
    fault: FaultKind | None  # why the oldest job is waiting, None while the printer is fine
    fault_message: str = ""
    paper_low: bool = False


class PrintQueue:
    def __init__(
        self,
        store: LocalStore,
        printer: Printer | None,
        *,
        paper: Paper,
        japanese: str = "kanji",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store, self._printer = store, printer
        self._paper, self._japanese, self._clock = paper, japanese, clock
        self._pump_lock = threading.Lock()  # one job at a time reaches the printer
        self._fault: PrinterFault | None = None
        self._paper_low = False
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def configured(self) -> bool:
        return self._printer is not None

    def submit(self, doc: Document, *, sale_id: str | None = None) -> int:
        """Store a receipt for printing; returns its job id."""
        with self._store.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO receipt_jobs (sale_id, kind, document, created_at)"
                " VALUES (?, ?, ?, ?)",
                (sale_id, doc.kind, doc.to_json(), int(self._clock())),
            )
            job = int(cur.lastrowid or 0)
        self._wake.set()
        return job

    def start(self, *, interval_s: float = 2.0) -> None:
        """Print in the background: at once after a submit, and every ``interval_s`` while
        receipts wait (a printer that comes back prints without anyone asking)."""
        if self._printer is None or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, args=(interval_s,), name="receipt-printer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self, interval_s: float) -> None:
        while not self._stopping.is_set():
            try:
                self.pump()
            except Exception:  # a bug here must not kill the printer thread silently
                log.exception("receipt printer thread")
            self._wake.wait(interval_s)
            self._wake.clear()

    def state(self) -> QueueState:
        waiting = self._store.query("SELECT COUNT(*) FROM receipt_jobs WHERE state = 'pending'")
        fault = self._fault
        return QueueState(
            waiting=int(waiting[0][0]),
            fault=fault.kind if fault else None,
            fault_message=fault.message if fault else "",
            paper_low=self._paper_low,
        )

    def pump(self, *, limit: int = 10) -> int:
        """Print waiting receipts in order; returns how many printed. Printer faults never raise."""
        if self._printer is None or not self._pump_lock.acquire(blocking=False):
            return 0
        try:
            return self._pump(self._printer, limit)
        finally:
            self._pump_lock.release()

    def _pump(self, printer: Printer, limit: int) -> int:
        rows = self._store.query(
            "SELECT id, document FROM receipt_jobs WHERE state = 'pending' ORDER BY id LIMIT ?",
            (limit,),
        )
        printed = 0
        for row in rows:
            data = job_bytes(
                Document.from_json(row["document"]), paper=self._paper, japanese=self._japanese
            )
            try:
                status = printer.send(data)
            except PrinterFault as fault:
                self._note_fault(int(row["id"]), fault)
                return printed
            self._fault, self._paper_low = None, status.paper_low
            with self._store.transaction() as conn:
                conn.execute(
                    "UPDATE receipt_jobs SET state = 'printed', printed_at = ?,"
                    " attempts = attempts + 1 WHERE id = ?",
                    (int(self._clock()), row["id"]),
                )
            printed += 1
        return printed

    def _note_fault(self, job_id: int, fault: PrinterFault) -> None:
        if self._fault is None or self._fault.kind != fault.kind:
            log.warning("receipt printer: %s (%s)", fault.code, fault.message)
        self._fault = fault
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE receipt_jobs SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (fault.code, job_id),
            )
