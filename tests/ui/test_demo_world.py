"""The demo's world is reused on the next run: same backend database, wallets, terminal."""

from __future__ import annotations

from pathlib import Path

from pos_app.demo.world import DemoWorld


def test_second_run_reuses_the_data_directory(tmp_path: Path) -> None:
    first = DemoWorld(tmp_path).start()
    try:
        ids = [w.client.wallet_id for w in first.wallets]
        kenji = next(w.client for w in first.wallets if w.label.startswith("Kenji"))
        assert kenji.view().balance == 100_000
        assert first.services is not None and first.services.checkout.status().enrolled
    finally:
        first.stop()
    assert (tmp_path / "backend").is_dir() and (tmp_path / "wallets.json").is_file()
    second = DemoWorld(tmp_path).start()
    try:
        assert [w.client.wallet_id for w in second.wallets] == ids
        assert second.services is not None and second.services.checkout.status().enrolled
        assert {a.user_id for a in second.authenticator().accounts()} == {"C042", "M001"}
    finally:
        second.stop()
