"""``pos-app doctor [--offline] [--json]``: check this terminal, print each finding with its fix.

Exit code 1 when any check FAILs, 0 otherwise (WARN and SKIP do not fail).
"""

from __future__ import annotations

import argparse
from typing import Any

from pos_app.terminal.settings.options import add_config_option


def register(subparsers: Any) -> None:
    doctor = subparsers.add_parser(
        "doctor", help="check this terminal and say how to fix what is wrong"
    )
    doctor.add_argument(
        "--offline", action="store_true", help="skip the checks that need the backend"
    )
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    add_config_option(doctor)
    # "inspect": doctor becomes the till's account like the others, but reports what is
    # wrong with the data directory instead of refusing to look at it.
    doctor.set_defaults(handler=_doctor, touches_data="inspect")


def _doctor(args: argparse.Namespace) -> int:
    from pos_app import __version__
    from pos_app.core.errors import ConfigError
    from pos_app.terminal.doctor.probes import CHECKS, build_env
    from pos_app.terminal.doctor.runner import exit_code, render_json, render_table, run_checks
    from pos_app.terminal.settings.loader import data_dir, load_settings
    from pos_app.terminal.settings.schema import Settings

    try:
        loaded = load_settings(user_file=args.config)
    except ConfigError as exc:
        # Keep going with the defaults: the other findings still help.
        env = build_env(None, data_dir=data_dir(Settings()), settings_error=exc.message)
    else:
        env = build_env(loaded.settings, data_dir=data_dir(loaded.settings), sources=loaded.sources)
    findings = run_checks(CHECKS, env, offline=args.offline)
    if args.json:
        print(render_json(findings, version=__version__, offline=args.offline))
    else:
        print(f"pos-app {__version__} doctor{' (offline)' if args.offline else ''}\n")
        print(render_table(findings))
    return exit_code(findings)
