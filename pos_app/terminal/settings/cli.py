"""``pos-app config show``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pos_app.terminal.settings.options import add_config_option


def register(subparsers: Any) -> None:
    config = subparsers.add_parser("config", help="show the effective settings")
    sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print every setting, its value and where it came from")
    show.add_argument("--json", action="store_true", help="one JSON object per setting")
    add_config_option(show)
    show.set_defaults(handler=_show)


def _show(args: argparse.Namespace) -> int:
    from pos_app.core.errors import ConfigError
    from pos_app.terminal.settings.loader import describe, load_settings

    try:
        loaded = load_settings(user_file=args.config)
    except ConfigError as exc:
        print(f"pos-app: configuration error: {exc.message}", file=sys.stderr)
        return 2
    rows = describe(loaded)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    width = max(len(r["setting"]) for r in rows)
    for row in rows:
        value = json.dumps(row["value"], ensure_ascii=False)
        print(f"{row['setting']:<{width}} = {value:<24} # {row['source']}")
        for why in row["why"]:  # which layers this value beat, and which were ignored
            print(f"{'':<{width}}   {'':<24} #   {why}")
    return 0
