"""Where a finalize's server CPU goes, step by step: thread CPU time per phase.

Samplers mislead here: py-spy ``--gil`` under-samples the request threads (a finalize's
worker-thread part, ~2/3 of its CPU by ``time.thread_time``, came out at ~1/5 of the
samples), py-spy without it counts threads waiting on the database or the GIL as busy, and
a deterministic profiler inflates Python-heavy code several times. This probe measures
``time.thread_time()`` (the CPU of the thread itself) around chosen functions of the
request path instead, outermost call only, and the whole of each request thread's work.

``bench/finalize_bench.py --phases FILE`` starts the server through this module (one
worker: the probe lives in the serving process); the bench sends SIGUSR1 when the
finalize run starts and SIGUSR2 when it ends, and the probe writes per-finalize figures
to FILE. The server itself is unchanged (the probe wraps its functions from outside).

    .venv/bin/python -m bench.finalize_bench --db postgres --terminals 16 --sales 60 \\
        --workers 1 --phases /tmp/phases.txt
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

_PHASES: dict[str, float] = defaultdict(float)
_LOCK = threading.Lock()
_LOCAL = threading.local()
_STATE = {"on": False, "requests": 0, "start_cpu": 0.0}


def _wrap(owner: Any, name: str, label: str) -> None:
    inner = getattr(owner, name)

    @functools.wraps(inner)
    def timed(*args: Any, **kwargs: Any) -> Any:
        busy: set[str] = _LOCAL.__dict__.setdefault("busy", set())
        if label in busy or not _STATE["on"]:
            return inner(*args, **kwargs)
        busy.add(label)
        start = time.thread_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent = time.thread_time() - start
            busy.discard(label)
            with _LOCK:
                _PHASES[label] += spent

    setattr(owner, name, timed)


def install(out: str) -> None:
    """Wrap the request path's phases; SIGUSR1 starts counting, SIGUSR2 writes *out*."""
    from psycopg import ClientCursor

    from pos_app.server import backend, db, finalize, idempotency, sales

    phases: tuple[tuple[Any, str, str], ...] = (
        (backend.Backend, "parse", "signature: parse (RFC 9421)"),
        (backend.Backend, "precheck", "signature: Ed25519 check (precheck)"),
        (finalize, "_verify_token", "PT1 token: verify"),
        (db, "batch", "db.batch: checkout, prepared names, BEGIN mode"),
        (db._Batch, "send", "psycopg: the batches (bind, send, wait, read)"),
        (db, "_join", "  of which: joining the statements (db._join)"),
        (ClientCursor, "execute", "  of which: psycopg ClientCursor.execute"),
        (finalize, "_verdict", "risk: features + rules"),
        (finalize, "_new_sale", "sale: built (SaleDraft)"),
        (finalize, "_insert_sale", "sale: INSERT values"),
        (sales, "settle", "settle: debit, journal, credit (queued)"),
        (idempotency, "_work", "the route's work (finalize, all of it)"),
    )
    for owner, name, label in phases:
        _wrap(owner, name, label)

    def counting(work: Callable[[], Any]) -> Callable[[], Any]:
        def counted() -> Any:
            start = time.thread_time()
            try:
                return work()
            finally:
                spent = time.thread_time() - start
                if _STATE["on"]:
                    with _LOCK:
                        _PHASES["request thread: all of Signed's work"] += spent
                        _STATE["requests"] += 1

        return counted

    if hasattr(backend.Backend, "in_thread"):
        original = backend.Backend.in_thread

        async def in_thread(self: Any, work: Callable[[], Any]) -> Any:
            return await original(self, counting(work))

        backend.Backend.in_thread = in_thread  # type: ignore[method-assign]
    else:  # older servers: Signed handed its work to anyio's threadpool
        from pos_app.server import http

        hop = getattr(http, "run_in_threadpool")  # noqa: B009  (gone from newer servers)

        async def run_in_threadpool(work: Callable[[], Any]) -> Any:
            return await hop(counting(work))

        setattr(http, "run_in_threadpool", run_in_threadpool)  # noqa: B010

    def begin(*_: Any) -> None:
        with _LOCK:
            _PHASES.clear()
            _STATE.update(on=True, requests=0, start_cpu=time.process_time())

    def end(*_: Any) -> None:
        with _LOCK:
            _STATE["on"] = False
            count = max(int(_STATE["requests"]), 1)
            process = (time.process_time() - float(_STATE["start_cpu"])) * 1000 / count
            lines = [f"{count} requests; process CPU {process:.3f} ms per request"]
            worker = _PHASES.get("request thread: all of Signed's work", 0.0) * 1000 / count
            lines.append(f"{process - worker:8.3f} ms  event loop and the rest (process - threads)")
            for label, spent in sorted(_PHASES.items(), key=lambda kv: -kv[1]):
                lines.append(f"{spent * 1000 / count:8.3f} ms  {label}")
        with open(out, "w") as f:
            f.write("\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR1, begin)
    signal.signal(signal.SIGUSR2, end)


def main() -> int:
    """``python -m bench.phase_probe OUT <pos-app arguments>``: serve with the probe."""
    out = sys.argv[1]
    import pos_app.server.asgi  # noqa: F401  (the app's modules, loaded whole before wrapping)

    install(out)
    from pos_app.cli import main as pos_app_main

    return pos_app_main(sys.argv[2:])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
