"""Doctor: backend and clock checks fail on cue, the real probe, and the command."""

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
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pos_app.cli import main
from pos_app.terminal.doctor.checks_net import check_backend, check_clock, http_probe
from pos_app.terminal.doctor.env import BackendReply
from pos_app.terminal.doctor.runner import Status
from pos_app.terminal.settings.schema import BackendSettings
from tests.terminal.doctor_support import NOW, healthy_env, settings

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
