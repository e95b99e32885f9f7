"""The two options of the commands that read the till's settings or its data, spelled once.

``pos_app.cli`` reads them from the parsed arguments before a command runs (its logging,
and the till's account for a command that touches the data: ``pos_app.terminal.session``),
so their destinations, ``config`` and ``data_dir``, are part of that contract.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="use this file instead of the user config")


def add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, help="use this data directory instead of [paths] data_dir"
    )
