"""Doctor: enrollment, trust list, outbox, backend and clock checks fail on cue; the CLI."""

from __future__ import annotations

import dataclasses
import datetime
import http.server
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from pos_app.cli import main
from pos_app.paytoken.trust_list import key_entry, sign_trust_list
from pos_app.scanning.symbols import RawSymbol, Symbology
from pos_app.terminal.doctor import Status
from pos_app.terminal.doctor_checks import DECODER_SAMPLE
from pos_app.terminal.doctor_checks_net import check_backend, check_clock, http_probe
from pos_app.terminal.doctor_checks_store import (
    check_enrollment,
    check_outbox,
    check_trust_list,
    read_credentials,
)
from pos_app.terminal.doctor_env import BackendReply, CredentialsInfo, DoctorEnv, QtProbeResult
from pos_app.terminal.settings_schema import BackendSettings, ScannerSettings, Settings
from pos_app.terminal.store import open_store

NOW = 1_795_000_000.0
GIB = 1024**3


class FakeDecoder:
    def __init__(self, name: str, *, reason: str | None = None, reads: bool = True) -> None:
        self.name = name
        self.unavailable_reason = reason
        self._reads = reads

    def decode(self, gray: Any) -> list[RawSymbol]:
        if not self._reads:
            return []
        text = DECODER_SAMPLE
        corners = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
        return [RawSymbol(Symbology.QR, text.encode(), text, corners)]


class FakeCamera:
    def __init__(self, frames: list[Any], *, fail_at: int | None = None) -> None:
        self.frames = frames
        self.fail_at = fail_at
        self.reads = 0
        self.closed = False

    def read(self) -> Any:
        if self.fail_at is not None and self.reads >= self.fail_at:
            raise OSError("camera stopped sending pictures")
        frame = self.frames[self.reads % len(self.frames)]
        self.reads += 1
        return frame

    def close(self) -> None:
        self.closed = True


def settings(**sections: Any) -> Settings:
    base = Settings(
        backend=BackendSettings(url="https://backend.example"),
        scanner=ScannerSettings(camera="0"),
    )
    return dataclasses.replace(base, **sections)


def healthy_env(tmp_path: Path, **overrides: Any) -> DoctorEnv:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    key = data / "terminal_key.pem"
    key.write_text("not a real key\n")
    key.chmod(0o600)
    camera = FakeCamera([np.zeros((720, 1280, 3), np.uint8)])
    base: dict[str, Any] = {
        "settings": settings(),
        "data_dir": data,
        "version_of": lambda dist: "1.0",
        "python_version": (3, 11, 7),
        "decoder_factory": FakeDecoder,
        "qr_image": lambda text: np.zeros((10, 10), np.uint8),
        "qt_probe": lambda: QtProbeResult(True, "", platform="offscreen", qt_version="6.8.0"),
        "open_camera": lambda device, s: camera,
        "write_probe": lambda path: None,
        "free_bytes": lambda path: 50 * GIB,
        "now": lambda: NOW,
        "backend": lambda url: BackendReply(status_code=200, server_time=NOW),
        "credentials": lambda s, d: CredentialsInfo(True, key_file=key, detail="enrolled"),
    }
    base.update(overrides)
    return DoctorEnv(**base)


def _store_trust_list(data_dir: Path, *, issued_at: int, next_update: int) -> None:
    root, issuer = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    entry = key_entry(
        issuer.public_key(),
        issue_not_before=issued_at - 10,
        issue_not_after=issued_at + 10**6,
        verify_until=issued_at + 10**6,
    )
    payload = {"seq": 7, "issued_at": issued_at, "next_update": next_update, "keys": [entry]}
    store = open_store(data_dir)
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO kv (key, value) VALUES ('trust_list.envelope', ?)",
            (sign_trust_list(root, payload),),
        )
    store.close()


# --- enrollment and the key file ------------------------------------------------------------


def test_enrolled_terminal_with_a_private_key_file_passes(tmp_path: Path) -> None:
    finding = check_enrollment(healthy_env(tmp_path))
    assert finding.status is Status.OK and "mode 0600" in finding.detail


def test_key_file_readable_by_others_fails_with_chmod(tmp_path: Path) -> None:
    env = healthy_env(tmp_path)
    key = env.data_dir / "terminal_key.pem"
    key.chmod(0o644)
    finding = check_enrollment(env)
    assert finding.status is Status.FAIL and "mode 0644" in finding.detail
    assert finding.fix == f"chmod 600 {key}"
    assert "not a real key" not in finding.detail + finding.fix  # never the key itself


def test_not_enrolled_fails_with_the_enroll_command(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, credentials=lambda s, d: CredentialsInfo(False, detail="none"))
    finding = check_enrollment(env)
    assert finding.status is Status.FAIL and "pos-app enroll" in finding.fix


def test_enrolled_but_key_file_missing_fails(tmp_path: Path) -> None:
    env = healthy_env(tmp_path)
    (env.data_dir / "terminal_key.pem").unlink()
    assert check_enrollment(env).status is Status.FAIL


def test_build_without_enrollment_is_a_warning(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, credentials=lambda s, d: CredentialsInfo(False, available=False))
    finding = check_enrollment(env)
    assert finding.status is Status.WARN and "not available in this build" in finding.detail


def _store_credential(data_dir: Path, *, storage: str = "file") -> None:
    info = {
        "keyid": "k-123",
        "store_id": "S001",
        "terminal_id": "T07",
        "backend_url": "https://backend.example",
        "enrolled_at": 1,
        "key_storage": storage,
        "public_key": "AAAA",
    }
    store = open_store(data_dir)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO kv (key, value) VALUES ('terminal.credential', ?)", (json.dumps(info),)
        )
    store.close()


def test_real_credentials_probe_reads_the_enrollment_record(tmp_path: Path) -> None:
    assert not read_credentials(Settings(), tmp_path).enrolled
    _store_credential(tmp_path)
    info = read_credentials(Settings(), tmp_path)
    assert info.enrolled and info.key_file == tmp_path / "terminal_key.pem"
    assert "store S001 terminal T07" in info.detail
    _store_credential(tmp_path / "kr", storage="keyring")
    assert read_credentials(Settings(), tmp_path / "kr").key_file is None


# --- trust list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_update", "expected"),
    [
        (int(NOW) + 3600, Status.OK),
        (int(NOW) - 3600, Status.WARN),  # refresh overdue, still inside the grace period
        (int(NOW) - 86400 - 1, Status.FAIL),  # stale: offline payments stop
    ],
)
def test_trust_list_age(tmp_path: Path, next_update: int, expected: Status) -> None:
    env = healthy_env(tmp_path)
    _store_trust_list(env.data_dir, issued_at=int(NOW) - 7200, next_update=next_update)
    finding = check_trust_list(env)
    assert finding.status is expected, finding.detail
    assert "seq 7, issued 2.0 h ago" in finding.detail


def test_stale_trust_list_follows_the_configured_grace(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, now=lambda: NOW + 120)
    _store_trust_list(env.data_dir, issued_at=int(NOW) - 7200, next_update=int(NOW))
    assert check_trust_list(env).status is Status.WARN
    strict = dataclasses.replace(
        env.effective,
        payment=dataclasses.replace(env.effective.payment, trust_list_stale_grace_s=60),
    )
    assert check_trust_list(dataclasses.replace(env, settings=strict)).status is Status.FAIL


def test_no_trust_list_fails(tmp_path: Path) -> None:
    open_store(tmp_path / "data").close()
    assert check_trust_list(healthy_env(tmp_path)).status is Status.FAIL


def test_unreadable_trust_list_fails(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    with store.transaction() as conn:
        conn.execute("INSERT INTO kv (key, value) VALUES ('trust_list.envelope', ?)", (b"{}",))
    store.close()
    finding = check_trust_list(healthy_env(tmp_path))
    assert finding.status is Status.FAIL and "unreadable" in finding.detail


# --- outbox --------------------------------------------------------------------------------


def _fill_outbox(data_dir: Path, count: int, *, created_at: float) -> None:
    store = open_store(data_dir)
    with store.transaction() as conn:
        for i in range(count):
            conn.execute(
                "INSERT INTO sales (sale_id, store_id, terminal_id, cashier_id, currency, total, "
                "state, created_at, updated_at) VALUES (?, 'S', 'T', 'C', 'JPY', 100, 'approved', "
                "?, ?)",
                (f"s{i}", int(created_at), int(created_at)),
            )
            conn.execute(
                "INSERT INTO outbox (sale_id, kind, idempotency_key, payload, created_at, "
                "next_attempt_at) VALUES (?, 'finalize', ?, '{}', ?, ?)",
                (f"s{i}", f"idem-{i}", int(created_at), int(created_at)),
            )
        conn.execute("UPDATE outbox SET state = 'sent' WHERE sale_id = 's0'")
    store.close()


@pytest.mark.parametrize(
    ("count", "age_s", "expected"),
    [
        (0, 0, Status.OK),
        (5, 60, Status.OK),
        (21, 60, Status.WARN),  # 20 waiting: the link is slow or down
        (5, 2 * 3600, Status.WARN),  # something has waited over an hour
        (201, 60, Status.FAIL),
        (3, 25 * 3600, Status.FAIL),  # a sale unsent for a day
    ],
)
def test_outbox_backlog(tmp_path: Path, count: int, age_s: float, expected: Status) -> None:
    env = healthy_env(tmp_path)
    _fill_outbox(env.data_dir, count, created_at=NOW - age_s)
    finding = check_outbox(env)
    assert finding.status is expected, finding.detail
    assert finding.detail.startswith(f"{max(count - 1, 0)} item(s) waiting")


# --- backend and clock --------------------------------------------------------------------


def test_backend_reachable_passes(tmp_path: Path) -> None:
    assert check_backend(healthy_env(tmp_path)).status is Status.OK


def test_backend_not_configured_fails(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, settings=settings(backend=BackendSettings(url="")))
    finding = check_backend(env)
    assert finding.status is Status.FAIL and "[backend] url" in finding.fix
    assert check_clock(env).status is Status.WARN


def test_backend_unreachable_fails(tmp_path: Path) -> None:
    reply = BackendReply(status_code=None, error="ConnectError: connection refused")
    finding = check_backend(healthy_env(tmp_path, backend=lambda url: reply))
    assert finding.status is Status.FAIL and "connection refused" in finding.detail


def test_backend_with_a_bad_certificate_fails_as_tls(tmp_path: Path) -> None:
    reply = BackendReply(status_code=None, error="certificate verify failed", tls_error=True)
    finding = check_backend(healthy_env(tmp_path, backend=lambda url: reply))
    assert finding.status is Status.FAIL and "TLS verification failed" in finding.detail
    assert "CA" in finding.fix


def test_backend_server_error_is_a_warning(tmp_path: Path) -> None:
    reply = BackendReply(status_code=503, server_time=NOW)
    assert check_backend(healthy_env(tmp_path, backend=lambda url: reply)).status is Status.WARN


def test_http_probe_reads_the_date_header() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url == "https://backend.example/v1/trust-list"
        return httpx.Response(200, headers={"Date": "Sun, 22 Nov 2026 04:00:00 GMT"})

    reply = http_probe("https://backend.example/", transport=httpx.MockTransport(handler))
    assert reply == BackendReply(status_code=200, server_time=1795320000.0)


def test_http_probe_tells_tls_failures_from_other_failures() -> None:
    def bad_cert(request: httpx.Request) -> httpx.Response:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed: self-signed")
        except ssl.SSLError as exc:
            raise httpx.ConnectError("TLS handshake failed", request=request) from exc

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    tls = http_probe("https://b.example", transport=httpx.MockTransport(bad_cert))
    assert tls.status_code is None and tls.tls_error
    down = http_probe("https://b.example", transport=httpx.MockTransport(refused))
    assert not down.tls_error and "connection refused" in down.error


@pytest.mark.parametrize(
    ("skew", "expected"),
    [(0.5, Status.OK), (-3.0, Status.WARN), (10.0, Status.FAIL), (-90.0, Status.FAIL)],
)
def test_clock_skew(tmp_path: Path, skew: float, expected: Status) -> None:
    env = healthy_env(tmp_path, now=lambda: NOW + skew)
    finding = check_clock(env)
    assert finding.status is expected
    assert ("ahead of" if skew > 0 else "behind") in finding.detail


def test_clock_unknown_when_the_backend_gives_no_time(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, backend=lambda url: BackendReply(status_code=None, error="x"))
    assert check_clock(env).status is Status.WARN


# --- the command ------------------------------------------------------------------------


def test_doctor_command_reports_a_bad_settings_file_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[ui]\ntheme = "neon"\n')
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["doctor", "--offline", "--json", "--config", str(bad)]) == 1
    doc = json.loads(capsys.readouterr().out)
    by_name = {f["name"]: f for f in doc["findings"]}
    assert by_name["settings"]["status"] == "FAIL" and str(bad) in by_name["settings"]["detail"]
    assert by_name["backend"]["status"] == "SKIP" and by_name["clock"]["status"] == "SKIP"
    assert by_name["decoders"]["status"] == "OK"
    assert by_name["qt-platform"]["status"] == "OK"


def test_doctor_command_prints_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[scanner]\ncamera = "none"\n[paths]\ndata_dir = "{tmp_path / "d"}"\n')
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    started = time.monotonic()
    code = main(["doctor", "--offline", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 1  # not enrolled, no trust list
    assert "FAIL  enrollment" in out and "SKIP  backend" in out and "OK    camera" in out
    assert time.monotonic() - started < 30


# --- the real probe against real servers on this machine ----------------------------------


@pytest.fixture
def local_server() -> Iterator[Callable[[ssl.SSLContext | None], str]]:
    servers: list[http.server.HTTPServer] = []

    def start(tls: ssl.SSLContext | None) -> str:
        server = http.server.HTTPServer(("127.0.0.1", 0), _TrustListHandler)
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        scheme = "https" if tls else "http"
        return f"{scheme}://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class _TrustListHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401 if self.path == "/v1/trust-list" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def test_real_probe_reaches_a_server_and_reads_its_clock(
    local_server: Callable[[ssl.SSLContext | None], str],
) -> None:
    url = local_server(None)
    reply = http_probe(url)
    assert reply.status_code == 401  # any answer proves the route; doctor never signs
    assert reply.server_time is not None and abs(reply.server_time - time.time()) < 5


def test_real_probe_refuses_a_self_signed_certificate(
    tmp_path: Path, local_server: Callable[[ssl.SSLContext | None], str]
) -> None:
    url = local_server(_self_signed(tmp_path))
    reply = http_probe(url, connect_timeout_s=5)
    assert reply.status_code is None and reply.tls_error, reply
    env = healthy_env(tmp_path, settings=settings(backend=BackendSettings(url=url)))
    finding = check_backend(dataclasses.replace(env, backend=http_probe))
    assert finding.status is Status.FAIL and "TLS verification failed" in finding.detail


def test_real_probe_reports_a_closed_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reply = http_probe(f"http://127.0.0.1:{port}")
    assert reply.status_code is None and not reply.tls_error and reply.error
