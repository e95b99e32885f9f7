"""``pos-app demo``: the whole system on this machine, in one command.

Starts the reference backend on loopback (SQLite in the user data directory,
reused next time), enrolls the terminal, seeds cashiers and wallets, and opens
the cashier window next to the customer's wallet window. Without a camera the
till's camera sees the wallet window's QR code (rendered with blur and noise)
through the same scanning path as a real camera.
"""

from __future__ import annotations

import logging
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from pos_app.core.errors import PosError
from pos_app.demo.camera_feed import CodeBoard, synthetic_camera
from pos_app.demo.world import (
    DEMO_MANAGER,
    DEMO_MANAGER_PASSPHRASE,
    STORE_ID,
    STORE_NAME,
    TERMINAL_ID,
    DemoWorld,
    default_root,
)
from pos_app.scanning.sources import FrameSource
from pos_app.terminal.settings.loader import load_settings
from pos_app.terminal.settings.schema import Settings

log = logging.getLogger(__name__)


def choose_camera(settings: Settings, board: CodeBoard) -> FrameSource:
    """A configured camera (an index or a path) is used; otherwise the wallet window."""
    from pos_app.ui.till import camera_from_settings

    if settings.scanner.camera not in {"auto", "none"}:
        real = camera_from_settings(settings)
        if real is not None:
            return real
    return synthetic_camera(board)


DEMO_OFFLINE_AFTER_S = 10


def run_demo(
    *, data_dir: str | None = None, fresh: bool = False, screenshots: str | None = None
) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    root = Path(data_dir) if data_dir else default_root()
    if fresh and root.exists():
        shutil.rmtree(root)
    try:
        base = load_settings().settings
        # "Network down" should show offline acceptance within the demo's patience: the
        # backend's contact slack and the till's wait are both 10 s here (90 s in a store).
        base = replace(base, payment=replace(base.payment, offline_after_s=DEMO_OFFLINE_AFTER_S))
        # The idle till's heartbeat as often as allowed, to stay near that short slack.
        base = replace(base, backend=replace(base.backend, heartbeat_s=5))
        print(f"pos-app demo: starting the backend and the terminal in {root} …", flush=True)
        world = DemoWorld(root, base=base).start()
    except PosError as exc:
        print(f"pos-app demo: {exc.message}", file=sys.stderr)
        return 2
    try:
        return _windows(world, screenshots)
    finally:
        world.stop()
        print("pos-app demo: stopped.", flush=True)


def _windows(world: DemoWorld, screenshots: str | None) -> int:
    from pos_app.demo.switches import DemoSwitches
    from pos_app.ui.app import build_window, run_demo_windows
    from pos_app.ui.till import manager_hook

    assert world.services is not None
    services, board = world.services, CodeBoard()
    if services.sync is not None:
        services.sync.start()
    print(
        f"pos-app demo: backend at {world.base_url}. Sign in as C042 / PIN 1234 "
        f"(manager {DEMO_MANAGER}: passphrase {DEMO_MANAGER_PASSPHRASE}, for approvals and the "
        "manager screen). Ctrl+C or closing a window stops everything.",
        flush=True,
    )
    camera = choose_camera(world.settings, board)
    # The customer display is its own window in the demo (unless switched off).
    display = world.settings.customer_display
    if display.mode != "off":
        display = replace(display, mode="window")
    settings = replace(world.settings, customer_display=display)
    tour = None
    if screenshots:
        from pos_app.demo.tour_script import screenshot_tour

        tour = screenshot_tour(
            Path(screenshots),
            network=world.network,
            camera=camera,
            manager_secret=DEMO_MANAGER_PASSPHRASE,
        )
    return run_demo_windows(
        lambda: build_window(
            settings,
            port=services.checkout,
            authenticator=world.authenticator(),
            camera_source=camera,
            store_name=STORE_NAME,
            open_manager=manager_hook(
                services,
                world.authenticator(),
                store_id=STORE_ID,
                terminal_id=TERMINAL_ID,
                currency=settings.terminal.currency,
            ),
        ),
        [(w.label, w.client) for w in world.wallets],
        show_code=lambda text: board.show(text) if text else board.show(),
        tour=tour,
        store_names={STORE_ID: STORE_NAME},
        below_wallet=lambda window: DemoSwitches(
            window.texts, network=world.network, camera=camera
        ),
    )
