"""Background work of the till: drain the outbox, keep the trust list fresh, forget expired
codes, and keep in signed contact with the backend.

One plain thread (or the UI's background lane calling :meth:`BackgroundSync.tick`)
that stops cooperatively. The trust list is refreshed every
``trust_list_refresh_s`` and, throttled, after any contact with the backend
(so a terminal that was offline picks up a new list as soon as it is back).
A till that made no signed request for ``heartbeat_s`` sends one
(``GET /v1/terminals/heartbeat``): the backend refuses offline claims dated
inside its stretches of contact with the till, and an idle till would otherwise
leave gaps a backdated claim could be dated into (docs/BACKEND.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pos_app.core.errors import BackendError
from pos_app.terminal.audit.sync import AuditSyncReport, audit_pending, sync_audit
from pos_app.terminal.backend.client import BackendClient
from pos_app.terminal.store.db import LocalStore
from pos_app.terminal.sync.outbox import DrainReport, OutboxDrainer
from pos_app.terminal.sync.trust import TrustListManager

log = logging.getLogger(__name__)

# A contact triggers a refresh at most this often: a busy till must not fetch per sale.
CONTACT_REFRESH_MIN_S = 60


@dataclass(frozen=True, slots=True)
class SyncReport:
    drain: DrainReport
    trust_list_refreshed: bool
    error: str | None = None
    audit: AuditSyncReport | None = None  # None: nothing new in the audit log


class BackgroundSync:
    def __init__(
        self,
        *,
        drainer: OutboxDrainer,
        trust: TrustListManager,
        client: BackendClient,
        refresh_interval_s: int,
        clock: Callable[[], float] = time.time,
        tick_s: float = 5.0,
        audit_store: LocalStore | None = None,
        terminal_id: str = "",
        heartbeat_s: int = 30,
    ) -> None:
        self._drainer, self._trust, self._client = drainer, trust, client
        self._audit_store, self._terminal_id = audit_store, terminal_id
        self._interval = refresh_interval_s
        self._heartbeat_s = heartbeat_s
        self._clock = clock
        self._tick_s = tick_s
        self._contacted = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_attempt: int | None = None
        client.add_contact_listener(self._contacted.set)

    def tick(self) -> SyncReport:
        """One pass: refresh the trust list if due, drain the outbox, send new audit entries."""
        refreshed, error = False, None
        now = int(self._clock())
        if self._refresh_due(now):
            self._last_attempt = now
            try:
                self._trust.refresh(self._client, now=now)
                refreshed = True
            except BackendError as exc:
                error = exc.message
                log.info("trust-list refresh failed: %s", exc.message)
            self._contacted.clear()  # the refresh itself was a contact
        self._drainer.purge_seen(now)
        drained = self._drainer.drain_once()
        audit = self._sync_audit()  # it also sends what the refresh just audited
        self._heartbeat()  # last: skipped when this pass already made a signed contact
        if refreshed:
            self._contacted.clear()  # this pass's own contacts need no second refresh
        return SyncReport(drained, refreshed, error, audit)

    def _heartbeat(self) -> None:
        """A signed contact when none was made for ``heartbeat_s`` (an idle till)."""
        client = self._client
        if client.identity is None:
            return  # not enrolled: nothing to sign with
        last = client.last_signed_contact_at
        if last is not None and self._clock() - last < self._heartbeat_s:
            return
        was_online = client.online
        try:
            client.heartbeat()
        except BackendError as exc:  # the backend is away: the next pass tries again
            log.info("heartbeat failed: %s", exc.message)
            return
        if was_online:  # a heartbeat is no news: only one that finds the link back
            self._contacted.clear()  # asks for a trust-list refresh (an idle till's is hourly)

    def _sync_audit(self) -> AuditSyncReport | None:
        """Send the audit entries the backend does not hold yet, so nobody at the store can
        quietly erase what happened: once sent, the backend's copy is the reference."""
        store = self._audit_store
        if store is None or not self._terminal_id or not audit_pending(store):
            return None
        report = sync_audit(store, self._client, terminal_id=self._terminal_id)
        if report.problem:
            log.warning("audit sync: %s", report.problem)
        return report

    def _refresh_due(self, now: int) -> bool:
        if self._last_attempt is not None and now - self._last_attempt < CONTACT_REFRESH_MIN_S:
            return False  # also spaces out attempts while the backend is down
        last = self._trust.last_fetched_at()
        if last is None or now - last >= self._interval:
            return True
        return self._contacted.is_set() and now - last >= CONTACT_REFRESH_MIN_S

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pos-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop and wait for it (a pass in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the loop must survive a bug in one pass
                log.exception("background sync pass failed")
            self._stop.wait(self._tick_s)
