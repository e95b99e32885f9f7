"""``pos-app token ...``: keygen, mint, sign-trust-list, verify.

Only argparse wiring lives here so ``pos-app --help`` stays fast; handlers
import :mod:`pos_app.paytoken.cli_commands` (cryptography, cbor2, sqlite) lazily.
JSON goes to stdout, messages to stderr; exit 0 ok, 1 rejected, 2 usage or
configuration error.
"""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_AUDIENCE = "pos.jp"
DEFAULT_CURRENCY = "JPY"
DEFAULT_STALE_GRACE = 86400
DEFAULT_TTL = 120


def register(subparsers: Any) -> None:
    """Add the ``token`` command and its subcommands to the ``pos-app`` parser."""
    token = subparsers.add_parser("token", help="PT1 payment tokens: keys, minting, verification")
    sub = token.add_subparsers(dest="token_command", metavar="SUBCOMMAND")
    token.set_defaults(handler=_usage(token))

    keygen = _command(sub, "keygen", "write an Ed25519 key pair PREFIX.key / PREFIX.pub")
    keygen.add_argument("--out", required=True, metavar="PREFIX")
    keygen.add_argument("--force", action="store_true", help="overwrite existing files")

    mint = _command(sub, "mint", "mint a PT1 token (prints the QR text)")
    mint.add_argument("--issuer-key", required=True, metavar="FILE")
    mint.add_argument("--sub", required=True, metavar="ID")
    mint.add_argument("--aud", required=True, metavar="AUD")
    mint.add_argument("--limit", required=True, type=int, metavar="N")
    mint.add_argument("--currency", required=True, metavar="CODE")
    mint.add_argument("--device", required=True, metavar="HEX16")
    mint.add_argument("--flags", required=True, type=int, metavar="N")
    mint.add_argument("--iat", type=int, metavar="EPOCH", help="default: now")
    mint.add_argument("--ttl", type=int, default=DEFAULT_TTL, metavar="SECONDS")
    mint.add_argument("--cti", metavar="HEX32", help="default: random")

    sign = _command(sub, "sign-trust-list", "sign a trust-list payload with the root key")
    sign.add_argument("--root-key", required=True, metavar="FILE")
    sign.add_argument("--payload", required=True, metavar="FILE.json")
    sign.add_argument("--out", required=True, metavar="FILE")

    verify = _command(sub, "verify", "verify PT1 tokens offline")
    verify.add_argument("--trust-list", required=True, metavar="FILE")
    verify.add_argument("--root-key", required=True, metavar="FILE.pub")
    verify.add_argument("--audience", default=DEFAULT_AUDIENCE, metavar="AUD")
    verify.add_argument("--currency", default=DEFAULT_CURRENCY, metavar="CODE")
    verify.add_argument("--now", type=int, metavar="EPOCH", help="default: the system clock")
    verify.add_argument("--seen-db", metavar="FILE", help="record and check cti (step 18)")
    verify.add_argument("--offline-amount", type=int, metavar="N", help="apply steps 19-21")
    verify.add_argument("--stale-grace", type=int, default=DEFAULT_STALE_GRACE, metavar="SECONDS")
    source = verify.add_mutually_exclusive_group(required=True)
    source.add_argument("token", nargs="?", metavar="TOKEN")
    source.add_argument("--batch", action="store_true", help="one token per stdin line")


def _usage(parser: argparse.ArgumentParser) -> Any:
    def handler(args: argparse.Namespace) -> int:
        del args
        parser.print_help()
        return 2

    return handler


def _lazy(name: str) -> Any:
    def handler(args: argparse.Namespace) -> int:
        from pos_app.paytoken import cli_commands  # lazy: keeps `pos-app --help` fast

        result: int = getattr(cli_commands, name)(args)
        return result

    return handler


def _command(sub: Any, name: str, summary: str) -> argparse.ArgumentParser:
    """The subcommand *name*, run by the ``cli_commands`` function of that name."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=summary)
    parser.set_defaults(handler=_lazy(name.replace("-", "_")))
    return parser
