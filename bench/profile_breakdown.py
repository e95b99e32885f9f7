"""Where the server's CPU goes: a ranked breakdown of py-spy's raw stacks.

Reads the collapsed stacks ``bench/finalize_bench.py --py-spy PREFIX`` writes (sampled with
``--gil``: only the thread holding the GIL, so a sample is Python-side CPU) and prints two
views, as shares of the samples and as ms per request when ``--cpu-ms`` (the bench's server
CPU per request) is given:

- **phase**: the request's step a sample belongs to (the innermost frame that names one:
  the signature's parse and check, the PT1 token, the batches, the risk engine...; outside
  the pipeline, the HTTP server, Starlette/FastAPI, pydantic...);
- **library**: the package of the innermost frame (who runs the Python code).

    .venv/bin/python -m bench.finalize_bench --db postgres --terminals 16 --sales 60 \\
        --workers 1 --py-spy /tmp/prof --py-spy-rate 1000
    .venv/bin/python -m bench.profile_breakdown /tmp/prof.postgres.txt --cpu-ms 2.5
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# (phase, pattern on one frame "function (file:line)"), matched from the innermost frame
# outwards: the first frame matching any pattern names the sample's phase.
PHASES: tuple[tuple[str, str], ...] = (
    ("signature: parse (RFC 9421)", r"\(pos_app/paytoken/httpsig\.py|Backend\.parse "),
    ("signature: Ed25519 check", r"Backend\._check |Backend\.precheck "),
    ("PT1 token verify", r"_verify_token |\(pos_app/paytoken/(verifier|token|pt1)"),
    ("risk features + rules", r"\(pos_app/core/risk/|_verdict \(|\(pos_app/server/risk\.py"),
    ("sale row (ORM Sale, INSERT values)", r"_new_sale |_insert_sale "),
    ("settle (ledger)", r"settle \(pos_app/server/sales|\(pos_app/server/ledger\.py"),
    ("answer (view, JSON dumps)", r"sales\.py.*view|view \(pos_app/server/sales|json/"),
    ("db: batch send + read (psycopg)", r"_Batch\.send |_client_cursor "),
    ("db: prefetch building", r"verify_ahead |claim_ahead |SaleAhead\.send |\bahead \(pos_app"),
    ("db: raw/write/take", r"\(pos_app/server/db\.py"),
    ("idempotency pipeline", r"\(pos_app/server/idempotency\.py"),
    ("finalize checks", r"\(pos_app/server/finalize\.py"),
    ("Signed pipeline (http.py)", r"\(pos_app/server/http\.py"),
    ("backend auth (nonce, contact)", r"\(pos_app/server/(backend|contacts)\.py"),
    ("SQLAlchemy session/transaction", r"\(sqlalchemy/"),
    ("psycopg", r"\(psycopg"),
    ("threadpool hop (anyio)", r"\(anyio/|to_thread|run_in_threadpool|concurrent/futures"),
    ("pydantic", r"\(pydantic"),
    ("FastAPI routing/dependencies/body", r"\(fastapi/"),
    ("middleware (Date, BodyLimit)", r"\(pos_app/server/(middleware|date_header|app)\.py"),
    ("Starlette", r"\(starlette/"),
    ("HTTP server (uvicorn)", r"\(uvicorn/"),
    ("asyncio/uvloop", r"\(asyncio/|uvloop"),
    ("logging", r"\(logging/"),
    ("threading/queue", r"\(threading\.py|\(queue\.py"),
)

LIBRARIES: tuple[tuple[str, str], ...] = (
    ("psycopg", r"\(psycopg"),
    ("sqlalchemy", r"\(sqlalchemy/"),
    ("pydantic", r"\(pydantic"),
    ("fastapi", r"\(fastapi/"),
    ("starlette", r"\(starlette/"),
    ("uvicorn", r"\(uvicorn/"),
    ("anyio", r"\(anyio/"),
    ("asyncio", r"\(asyncio/"),
    ("cryptography", r"\(cryptography/"),
    ("json", r"\(json/"),
    ("logging", r"\(logging/"),
    ("pos_app.paytoken", r"\(pos_app/paytoken/"),
    ("pos_app.core.risk", r"\(pos_app/core/"),
    ("pos_app.server", r"\(pos_app/server/"),
    ("threading/queue", r"\(threading\.py|\(queue\.py"),
)


def parse(path: Path) -> Counter[tuple[str, ...]]:
    """Stacks (outermost frame first, the process header dropped) and their sample counts."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text().splitlines():
        head, _, count = line.rpartition(" ")
        if not head or not count.isdigit():
            continue
        frames = head.split(";")
        if frames and frames[0].startswith("process "):
            frames = frames[1:]
        stacks[tuple(frames)] += int(count)
    return stacks


def classify(stack: tuple[str, ...], table: tuple[tuple[str, str], ...]) -> str:
    compiled = [(name, re.compile(pattern)) for name, pattern in table]
    for frame in reversed(stack):
        for name, pattern in compiled:
            if pattern.search(frame):
                return name
    return "other (stdlib, interpreter)"


def breakdown(stacks: Counter[tuple[str, ...]], table: tuple[tuple[str, str], ...]) -> Counter[str]:
    out: Counter[str] = Counter()
    for stack, count in stacks.items():
        out[classify(stack, table)] += count
    return out


def report(title: str, counts: Counter[str], cpu_ms: float | None) -> None:
    total = sum(counts.values()) or 1
    print(f"\n{title} ({total} samples)")
    for name, count in counts.most_common():
        share = count / total
        ms = f"{share * cpu_ms:6.3f} ms" if cpu_ms else ""
        print(f"  {share:6.1%} {ms}  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", type=Path, help="py-spy raw output (--format raw)")
    parser.add_argument("--cpu-ms", type=float, help="server CPU per request, from the bench")
    parser.add_argument("--top", type=int, default=0, help="also the N hottest leaf frames")
    args = parser.parse_args()
    stacks = parse(args.stacks)
    report("by phase", breakdown(stacks, PHASES), args.cpu_ms)
    report("by library (innermost frame)", breakdown(stacks, LIBRARIES), args.cpu_ms)
    if args.top:
        leaves: Counter[str] = Counter()
        for stack, count in stacks.items():
            leaves[stack[-1] if stack else "?"] += count
        report(f"top {args.top} leaf frames", Counter(dict(leaves.most_common(args.top))), None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
