"""Handlers of ``pos-app token ...`` (imported lazily by :mod:`pos_app.paytoken.cli`).

The CLI is a boundary, so it is allowed to read the clock (``--iat`` and
``--now`` default to it); everything below receives time as an argument.
Tokens and keys never appear in messages.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from pos_app.core.errors import PosError
from pos_app.paytoken import keys
from pos_app.paytoken.acceptance import accept
from pos_app.paytoken.errors import SeenStoreError, TokenEncodeError, TrustListInvalid
from pos_app.paytoken.issuer import mint_token
from pos_app.paytoken.reasons import cashier_text
from pos_app.paytoken.seen_store import SeenTokenStore, SQLiteSeenStore
from pos_app.paytoken.trust_list import TrustList, parse_trust_list, read_trust_list
from pos_app.paytoken.trust_list import sign_trust_list as sign_envelope
from pos_app.paytoken.verifier import Verifier

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


def keygen(args: argparse.Namespace) -> int:
    key_path, pub_path = Path(f"{args.out}.key"), Path(f"{args.out}.pub")
    existing = [str(p) for p in (key_path, pub_path) if p.exists()]
    if existing and not args.force:
        return _fail("file_exists", f"refusing to overwrite {', '.join(existing)} (use --force)")
    key = keys.generate_keypair()
    try:
        keys.write_private_key(key_path, key)
        keys.write_public_key(pub_path, key.public_key())
    except OSError as exc:
        return _fail("write_failed", f"cannot write key files: {exc.strerror}")
    _emit({"kid": keys.kid_hex(key)})
    _say(f"wrote {key_path} (mode 0600) and {pub_path}")
    return EXIT_OK


_MINT_AS_GIVEN = ("sub", "aud", "limit", "currency", "flags", "ttl")


def mint(args: argparse.Namespace) -> int:
    try:
        key = keys.load_private_key(args.issuer_key)
        device = _hex_arg(args.device, 8, "--device")
        cti = None if args.cti is None else _hex_arg(args.cti, 16, "--cti")
        # The options named after mint_token's parameters go through as given.
        given = {name: getattr(args, name) for name in _MINT_AS_GIVEN}
        iat = int(time.time()) if args.iat is None else args.iat
        token = mint_token(key, **given, device=device, iat=iat, cti=cti)
    except PosError as exc:
        return _fail(exc.code, exc.message)
    print(token)
    return EXIT_OK


def sign_trust_list(args: argparse.Namespace) -> int:
    try:
        root = keys.load_private_key(args.root_key)
        payload = json.loads(Path(args.payload).read_text(encoding="utf-8"))
        if not isinstance(payload, dict):
            raise TrustListInvalid("payload file is not a JSON object")
        envelope = sign_envelope(root, payload)
        keys.atomic_write(Path(args.out), envelope, mode=0o644)
    except PosError as exc:
        return _fail(exc.code, exc.message)
    except (OSError, ValueError) as exc:
        return _fail("config_invalid", f"{args.payload}: {exc}")
    listed = parse_trust_list(envelope, root.public_key())
    _emit(
        {
            "seq": listed.seq,
            "root_kid": listed.root_kid,
            "keys": [key.kid_hex for key in listed.keys],
            "ignored": [{"index": e.index, "kid": e.kid, "why": e.why} for e in listed.ignored],
        }
    )
    _say(f"wrote {args.out}")
    return EXIT_OK


def verify(args: argparse.Namespace) -> int:
    if args.offline_amount is not None and args.offline_amount < 0:
        return _fail("usage", "--offline-amount must be a non-negative amount in minor units")
    try:
        listed = _load_trust_list(args.trust_list, args.root_key)
        verifier = Verifier(listed, audience=args.audience, currency=args.currency)
        seen = None if args.seen_db is None else SQLiteSeenStore(args.seen_db)
    except TrustListInvalid as exc:
        return _fail("trust_list_invalid", exc.message)
    except (PosError, ValueError) as exc:
        return _fail(getattr(exc, "code", "config_invalid"), str(exc))
    now = int(time.time()) if args.now is None else args.now
    check = _Check(verifier, listed, seen=seen, now=now, args=args)
    try:
        if args.batch:
            return _verify_batch(check, sys.stdin.buffer, sys.stdout)
        outcome = check.run(args.token)
    except SeenStoreError as exc:
        return _fail(exc.code, exc.message)
    finally:
        if seen is not None:
            seen.close()
    _emit(outcome)
    if not outcome["ok"]:
        _say(f"rejected: {outcome['reason']}: {cashier_text(str(outcome['reason']))}")
    return EXIT_OK if outcome["ok"] else EXIT_REJECTED


class _Check:
    """One verification configuration applied to each token."""

    def __init__(
        self,
        verifier: Verifier,
        listed: TrustList,
        *,
        seen: SeenTokenStore | None,
        now: int,
        args: argparse.Namespace,
    ) -> None:
        self.verifier, self.seen, self.now = verifier, seen, now
        self.offline_amount: int | None = args.offline_amount
        self.stale = listed.is_stale(now, args.stale_grace)

    def run(self, text: str) -> dict[str, Any]:
        result = self.verifier.verify(text, now=self.now)
        ok, reason, claims = result.ok, result.reason, result.claims
        if ok and (self.seen is not None or self.offline_amount is not None):
            accepted = accept(
                result,
                now=self.now,
                seen=self.seen if self.seen is not None else _NoSeenStore(),
                offline=self.offline_amount is not None,
                amount=self.offline_amount,
                trust_list_stale=self.stale,
            )
            ok, reason = accepted.ok, accepted.reason
        return {"ok": ok, "reason": reason, "claims": None if claims is None else claims.to_json()}


class _NoSeenStore:
    """Without --seen-db step 18 is not asked for: nothing is ever seen."""

    def is_seen(self, cti: bytes, now: int) -> bool:
        return False

    def record(self, cti: bytes, expires_at: int, *, now: int | None = None) -> bool:
        return True

    def purge(self, now: int) -> int:
        return 0


def _verify_batch(check: _Check, stdin: BinaryIO, stdout: TextIO) -> int:
    for raw in stdin:
        # Strip only the line end: base45 has a space, so strip() would edit tokens.
        line = raw.removesuffix(b"\n").removesuffix(b"\r")
        text = line.decode("utf-8", errors="surrogateescape")
        stdout.write(json.dumps(check.run(text), ensure_ascii=False) + "\n")
        stdout.flush()
    return EXIT_OK


def _load_trust_list(trust_list_path: str, root_key_path: str) -> TrustList:
    return read_trust_list(trust_list_path, keys.load_public_key(root_key_path))


def _hex_arg(text: str, length: int, name: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != length or len(text) != 2 * length:
        raise TokenEncodeError(f"{name} must be {2 * length} hex characters")
    return value


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _fail(code: str, detail: str) -> int:
    _emit({"error": code, "detail": detail})
    _say(f"error: {detail}")
    return EXIT_USAGE
