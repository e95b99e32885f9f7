"""``pos-app run``: the till with its configured camera and the real checkout service."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from pos_app.core.errors import PosError
from pos_app.scanning.camera import CameraSource, device_exists
from pos_app.scanning.sources import FrameSource
from pos_app.terminal.auth import Authenticator
from pos_app.terminal.manager_keys import ManagerKeyring
from pos_app.terminal.settings.scanner import camera_config
from pos_app.terminal.settings.schema import Settings

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from pos_app.terminal.checkout.types import CheckoutPort
    from pos_app.terminal.services import TerminalServices

log = logging.getLogger(__name__)


def camera_from_settings(settings: Settings) -> FrameSource | None:
    """'none': no camera; 'auto': the first camera if one is plugged in; else that device."""
    s = settings.scanner
    if s.camera == "none":
        return None
    if s.camera == "auto":
        if device_exists(0) is False:
            return None
        device: int | str = 0
    else:
        device = int(s.camera) if s.camera.isdigit() else s.camera
    config = camera_config(settings, device)
    return CameraSource(config)


def run_cashier(settings: Settings, *, kiosk: bool = False) -> int:
    from pos_app.terminal.services import build_services
    from pos_app.terminal.update_watch import UpdateWatch
    from pos_app.ui.app import build_window, run_till
    from pos_app.ui.kiosk import show_fatal

    try:
        services = build_services(settings)
    except PosError as exc:
        log.error("the till cannot start: %s", exc.message)
        print(f"pos-app: {exc.message}", file=sys.stderr)
        return show_fatal(exc.message) if kiosk else 2
    info = services.credential.info if services.credential else None
    ids = (
        (info.store_id, info.terminal_id)
        if info
        else (settings.terminal.store_id, settings.terminal.terminal_id)
    )
    sec = settings.security
    auth = Authenticator(
        services.store,
        max_attempts=sec.pin_max_attempts,
        lock_base_s=sec.pin_lock_base_s,
        manager_pin_hash=sec.manager_pin_hash,
        keyring=ManagerKeyring(services.store, store_id=ids[0]),
    )
    if services.sync is not None:
        services.sync.start()
    port, reprint = _with_receipts(services)
    try:
        return run_till(
            lambda: build_window(
                settings,
                port=port,
                authenticator=auth,
                camera_source=camera_from_settings(settings),
                open_manager=manager_hook(
                    services,
                    auth,
                    store_id=ids[0],
                    terminal_id=ids[1],
                    currency=settings.terminal.currency,
                ),
                kiosk=kiosk,
                reprint=reprint,
            ),
            watch=UpdateWatch(),
        )
    finally:
        services.close()


def _with_receipts(
    services: TerminalServices,
) -> tuple[CheckoutPort, Callable[[], bool] | None]:
    """The checkout with receipts printed on approval, and the reprint key's action."""
    if services.receipts is None:
        return services.checkout, None
    from pos_app.terminal.printing.checkout_hook import PrintingCheckout

    services.receipts.queue.start()
    port = PrintingCheckout(services.checkout, services.receipts)
    return port, port.reprint_last


def catalog_names(services: TerminalServices) -> Callable[[str, str], str | None] | None:
    """Product names in the manager's language, from the catalog the receipts use."""
    return services.receipts.product_name if services.receipts is not None else None


def manager_hook(
    services: TerminalServices,
    auth: Authenticator,
    *,
    store_id: str,
    terminal_id: str,
    currency: str,
) -> Callable[[QWidget], None]:
    """The cashier window's Ctrl+M: the manager review screen (pos_app.ui.manager),
    loaded on first use so it costs nothing at start-up."""
    opener: list[Callable[[QWidget], None]] = []

    def open_manager(parent: QWidget) -> None:
        if not opener:
            from pos_app.terminal.reviews.client import ClientReviewsBackend
            from pos_app.ui.manager.services import ManagerServices, authenticator_sign_in
            from pos_app.ui.manager.window import manager_opener

            opener.append(
                manager_opener(
                    ManagerServices(
                        store=services.store,
                        store_id=store_id,
                        terminal_id=terminal_id,
                        sign_in=authenticator_sign_in(auth),
                        currency=currency,
                        backend=ClientReviewsBackend(services.client) if services.client else None,
                        claims=ClientReviewsBackend(services.client) if services.client else None,
                        receipts=services.receipts,
                        product_names=catalog_names(services),
                    )
                )
            )
        opener[0](parent)

    return open_manager
