import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from pos_app.core.catalog import Catalog
from pos_app.scanning.sources import FrameSource
from pos_app.terminal.auth import Authenticator, Role
from pos_app.terminal.checkout.types import CheckoutPort
from pos_app.terminal.settings.schema import Settings, UiSettings
from pos_app.terminal.store.db import open_store
from pos_app.ui.main_window import AppContext, MainWindow

from .fake_checkout import FakeCheckout
from .helpers import MakeWindow

CATALOG = Catalog.from_dir(Path(__file__).resolve().parents[2] / "assets" / "catalog")

# One scrypt hash per PIN for the whole run: hashing is deliberately slow.
_ACCOUNTS: list[tuple[str, str, Role, str]] = [
    ("C042", "Sato", Role.CASHIER, "1234"),
    ("M001", "Tanaka", Role.MANAGER, "9999"),
]


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seed")
    store = open_store(folder)
    auth = Authenticator(store)
    for user_id, name, role, pin in _ACCOUNTS:
        auth.add_account(user_id, name, role, pin)
    store.close()
    return folder / "terminal.db"


@pytest.fixture
def store_dir(tmp_path: Path, seeded_db: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "terminal.db").write_bytes(seeded_db.read_bytes())
    # The PIN hashes are keyed with the seed's pepper, kept beside the database.
    pepper = seeded_db.with_name("pin_pepper.key")
    (folder / pepper.name).write_bytes(pepper.read_bytes())
    return folder


@pytest.fixture
def prefs(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def fake() -> FakeCheckout:
    return FakeCheckout()


@pytest.fixture
def make_window(
    qtbot: QtBot, store_dir: Path, prefs: QSettings, fake: FakeCheckout
) -> Iterator[MakeWindow]:
    windows: list[MainWindow] = []

    def make(
        *,
        settings: Settings | None = None,
        source: FrameSource | None = None,
        port: CheckoutPort | None = None,
        open_manager: Callable[[QWidget], None] | None = None,
        kiosk: bool = False,
    ) -> MainWindow:
        store = open_store(store_dir)
        s = settings or Settings(ui=UiSettings(language="en", sound=False))
        ctx = AppContext(
            settings=s,
            catalog=CATALOG,
            port=port if port is not None else fake,
            authenticator=Authenticator(
                store,
                max_attempts=s.security.pin_max_attempts,
                lock_base_s=s.security.pin_lock_base_s,
            ),
            prefs=prefs,
            camera_source=source,
            store_name="Demo Store Shibuya",
            open_manager=open_manager,
            kiosk=kiosk,
        )
        window = MainWindow(ctx)
        qtbot.addWidget(window)
        with qtbot.waitActive(window):  # shortcuts and focus need the active window
            window.show()
            window.activateWindow()
        window.start()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
