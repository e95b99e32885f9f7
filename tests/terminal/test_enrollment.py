"""Enrollment end to end against the real backend, the trust list's rollback rules, sync."""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pos_app.cli import main
from pos_app.paytoken import keys
from pos_app.paytoken.errors import KeyFileError
from pos_app.paytoken.trust_list import key_entry, sign_trust_list
from pos_app.server import admin
from pos_app.terminal.audit.log import AuditAction, read_entries
from pos_app.terminal.backend.client import BackendClient, ClientConfig
from pos_app.terminal.backend.credentials import KEY_FILE, load_credential, load_info
from pos_app.terminal.backend.enrollment import EnrollmentInput, enroll
from pos_app.terminal.errors import BackendAuthError, BackendRejected, EnrollmentError
from pos_app.terminal.services import build_services
from pos_app.terminal.store.db import LocalStore, open_store
from pos_app.terminal.sync.trust import TrustListManager, load_root_key
from tests.terminal.checkout_support import (
    TEA,
    Backend,
    Network,
    basket,
    running_backend,
    terminal_settings,
    till,
)

NOW = 1_795_000_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = open_store(tmp_path / "terminal")
    yield s
    s.close()


def _trust(store: LocalStore, root: Ed25519PublicKey) -> TrustListManager:
    return TrustListManager(
        store,
        root,
        audience="pos.jp",
        currency="JPY",
        stale_grace_s=86400,
    )


def _enroll(backend: Backend, store: LocalStore, directory: Path, **kw: object) -> object:
    trust = _trust(store, load_root_key(str(backend.root_key_path)))
    request = EnrollmentInput(
        backend.url,
        str(kw.pop("code", None) or backend.code()),
        str(kw.pop("store", "S001")),
        "T01",
    )
    return enroll(
        request,
        store=store,
        data_dir=directory,
        trust=kw.pop("trust", trust),  # type: ignore[arg-type]
        config=ClientConfig(base_url=backend.url, retries=0),
        clock=backend.clock.now,
        prefer_keyring=bool(kw.pop("prefer_keyring", False)),
        **kw,  # type: ignore[arg-type]
    )


def test_enrollment_stores_a_0600_key_the_credential_and_the_trust_list(
    backend: Backend, store: LocalStore, tmp_path: Path
) -> None:
    directory = tmp_path / "terminal"
    _enroll(backend, store, directory)
    key_file = directory / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    credential = load_credential(store, directory)
    assert credential is not None
    assert (credential.info.store_id, credential.info.terminal_id) == ("S001", "T01")
    assert credential.info.key_storage == "file"
    trust = _trust(store, load_root_key(str(backend.root_key_path)))
    assert trust.current is not None and trust.current.keys
    actions = [e.action for e in read_entries(store)]
    assert actions == [AuditAction.ENROLLED, AuditAction.TRUST_LIST_UPDATED]
    # The real server accepts this terminal's signatures: a signed lookup gets a 404, not a 401.
    config = ClientConfig(base_url=backend.url, retries=0)
    with (
        BackendClient(config, identity=credential.identity, clock=backend.clock.now) as client,
        pytest.raises(BackendRejected) as missing,
    ):
        client.get_sale("no-such-sale")
    assert (missing.value.status, missing.value.code) == (404, "unknown_sale")
    # A key the backend never enrolled is refused.
    unknown = type(credential.identity)(key=Ed25519PrivateKey.generate(), keyid="x")
    with (
        BackendClient(config, identity=unknown, clock=backend.clock.now) as stranger,
        pytest.raises(BackendAuthError),
    ):
        stranger.get_sale("no-such-sale")


def test_a_used_code_fails_and_keeps_the_working_credential(
    backend: Backend, store: LocalStore, tmp_path: Path
) -> None:
    directory = tmp_path / "terminal"
    code = backend.code()
    _enroll(backend, store, directory, code=code)
    before = (directory / KEY_FILE).read_bytes()
    with pytest.raises(EnrollmentError, match="already enrolled"):
        _enroll(backend, store, directory, code=code)
    with pytest.raises(BackendAuthError) as used:
        _enroll(backend, store, directory, code=code, force=True)
    assert used.value.code == "bad_enrollment_code"
    assert (directory / KEY_FILE).read_bytes() == before
    assert load_credential(store, directory) is not None


def test_a_trust_list_not_signed_by_the_pinned_root_stores_nothing(
    backend: Backend, store: LocalStore, tmp_path: Path
) -> None:
    directory = tmp_path / "terminal"
    impostor = _trust(store, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(EnrollmentError, match="pinned root"):
        _enroll(backend, store, directory, trust=impostor)
    assert load_info(store) is None
    assert not (directory / KEY_FILE).exists()


def test_a_code_for_another_terminal_is_refused(
    backend: Backend, store: LocalStore, tmp_path: Path
) -> None:
    with pytest.raises(EnrollmentError, match="check --store"):
        _enroll(backend, store, tmp_path / "terminal", code=backend.code("S002", "T01"))
    assert load_info(store) is None


def test_a_key_file_readable_by_others_is_refused(
    backend: Backend, store: LocalStore, tmp_path: Path
) -> None:
    directory = tmp_path / "terminal"
    _enroll(backend, store, directory)
    os.chmod(directory / KEY_FILE, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_credential(store, directory)


def test_cli_enroll_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_backend(tmp_path, start=int(time.time())) as backend:
        directory = tmp_path / "cli-terminal"
        args = ["enroll", "--backend", backend.url, "--store", "S001", "--terminal", "T01",
                "--root-key", str(backend.root_key_path), "--data-dir", str(directory),
                "--config", str(tmp_path / "none.toml")]  # fmt: skip
        # The CLI signs with the real clock; the backend's is frozen: keep them together
        # (a loaded machine took over the 5 s the backend allows between two calls).
        backend.clock.set(int(time.time()))
        assert main([*args, "--code", backend.code()]) == 0
        assert "enrolled S001/T01" in capsys.readouterr().err
        assert (directory / KEY_FILE).exists()
        backend.clock.set(int(time.time()))
        assert main([*args, "--code", backend.code(), "--force"]) == 0
        assert main([*args, "--code", "f" * 32, "--force"]) == 1
        assert "bad_enrollment_code" in capsys.readouterr().err
    config = str(tmp_path / "none.toml")
    plain = ["enroll", "--backend", "http://backend.example", "--code", "c", "--store", "S",
             "--terminal", "T", "--root-key", "x", "--config", config]  # fmt: skip
    assert main(plain) == 2
    assert "https://" in capsys.readouterr().err


# --- trust list -----------------------------------------------------------------------------


def _list(root: Ed25519PrivateKey, seq: int, issuer: Ed25519PrivateKey) -> bytes:
    entry = key_entry(issuer.public_key(), issue_not_before=0, issue_not_after=NOW * 2,
                      verify_until=NOW * 2)  # fmt: skip
    payload = {"seq": seq, "issued_at": NOW, "next_update": NOW + 86400, "keys": [entry]}
    return sign_trust_list(root, payload)


def test_trust_list_rollback_rules_are_enforced_and_audited(store: LocalStore) -> None:
    root, issuer = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    trust = _trust(store, root.public_key())
    assert trust.offer(_list(root, 2, issuer), now=NOW, source="test").why == "installed"  # type: ignore[union-attr]
    assert trust.offer(_list(root, 1, issuer), now=NOW, source="test").why == "rollback"  # type: ignore[union-attr]
    other = Ed25519PrivateKey.generate()
    assert trust.offer(_list(root, 2, other), now=NOW, source="test").why == (  # type: ignore[union-attr]
        "same_seq_different_content"
    )
    assert trust.offer(_list(Ed25519PrivateKey.generate(), 9, issuer), now=NOW, source="x") is None
    assert trust.current is not None and trust.current.seq == 2
    assert trust.current.keys[0].kid == keys.kid_of(issuer)
    assert _trust(store, root.public_key()).current.seq == 2  # type: ignore[union-attr]
    actions = [e.action for e in read_entries(store)]
    assert actions == [AuditAction.TRUST_LIST_UPDATED] + [AuditAction.TRUST_LIST_REJECTED] * 3
    assert trust.offer(_list(root, 3, other), now=NOW, source="test").why == "newer"  # type: ignore[union-attr]


def test_stale_and_age_follow_next_update_and_grace(store: LocalStore) -> None:
    root, issuer = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    trust = _trust(store, root.public_key())
    assert trust.is_stale(NOW) and trust.age_s(NOW) is None and trust.verifier() is None
    trust.offer(_list(root, 1, issuer), now=NOW, source="test")
    assert trust.age_s(NOW + 10) == 10
    assert not trust.is_stale(NOW + 2 * 86400)
    assert trust.is_stale(NOW + 2 * 86400 + 1)


def test_background_sync_refreshes_the_trust_list_and_stops(
    backend: Backend, tmp_path: Path
) -> None:
    network = Network()
    services = till(backend, tmp_path, network)
    try:
        assert services.sync is not None and services.client is not None
        assert services.trust is not None
        first = services.trust.current
        assert first is not None
        admin.rotate_keys(backend.settings.data_dir, step="publish", clock=backend.clock)
        assert services.sync.tick().trust_list_refreshed  # never fetched since enrollment
        assert services.trust.current is not None and services.trust.current.seq > first.seq
        backend.clock.advance(61)
        assert not services.sync.tick().trust_list_refreshed  # no contact, period not over
        with pytest.raises(BackendRejected):
            services.client.get_sale("missing")  # any answer is a contact
        assert services.sync.tick().trust_list_refreshed
        services.sync.start()
        assert services.sync.running
        services.sync.stop(timeout=5)
        assert not services.sync.running
    finally:
        services.close()
        network.close()


def test_not_enrolled_terminal_declines_and_says_so(backend: Backend, tmp_path: Path) -> None:
    settings = terminal_settings(backend, tmp_path / "fresh")
    services = build_services(settings, clock=backend.clock.now)
    try:
        assert not services.checkout.status().enrolled
        sale = services.checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
        update = services.checkout.submit_token(sale.sale_id, "PT1:X")
        assert update.reason == "not_enrolled"
    finally:
        services.close()


class _FakeKeyring:
    """Stands in for the optional ``keyring`` package with a usable backend."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_keyring(self) -> object:
        return type("Backend", (), {"priority": 5})()

    def set_password(self, service: str, account: str, value: str) -> None:
        self.items[(service, account)] = value

    def get_password(self, service: str, account: str) -> str | None:
        return self.items.get((service, account))


def test_the_key_goes_to_the_os_keyring_when_one_is_usable(
    backend: Backend, store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _FakeKeyring()
    monkeypatch.setitem(sys.modules, "keyring", fake)
    directory = tmp_path / "terminal"
    _enroll(backend, store, directory, prefer_keyring=True)
    assert not (directory / KEY_FILE).exists()
    assert len(fake.items) == 1 and "PRIVATE KEY" in next(iter(fake.items.values()))
    credential = load_credential(store, directory)
    assert credential is not None and credential.info.key_storage == "keyring"
    monkeypatch.setattr("pos_app.terminal.backend.credentials.usable_keyring", lambda: None)
    with pytest.raises(KeyFileError, match="keyring"):
        load_credential(store, directory)


def test_the_root_trusted_at_enrollment_is_pinned_for_later_starts(
    backend: Backend, tmp_path: Path
) -> None:
    directory = tmp_path / "terminal"
    settings = terminal_settings(backend, directory)
    bare = replace(settings, backend=replace(settings.backend, trust_root_key=""))
    fresh = build_services(bare, clock=backend.clock.now)  # no root yet: starts, not enrolled
    try:
        status = fresh.checkout.status()
        assert not status.enrolled and status.trust_list_stale and fresh.trust is None
    finally:
        fresh.close()
    store = open_store(directory)
    try:
        _enroll(backend, store, directory)  # --root-key given only to the enroll command
    finally:
        store.close()
    later = build_services(bare, clock=backend.clock.now)
    try:
        assert later.checkout.status().enrolled
        assert later.trust is not None and later.trust.current is not None
    finally:
        later.close()
