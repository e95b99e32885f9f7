"""Doctor checks that need the network: backend reachable with valid TLS, clock skew.

One request serves both (the probe is memoised by the caller): the backend's
answer, whatever its status, proves DNS, routing and TLS work, and its ``Date``
header tells the clock skew. The request is unsigned on purpose: doctor must
work before enrollment and must never use the terminal key.
"""

from __future__ import annotations

import ssl
from email.utils import parsedate_to_datetime
from typing import Any

from pos_app.terminal.doctor.env import BackendReply, DoctorEnv
from pos_app.terminal.doctor.runner import Finding, fail, ok, warn

PROBE_PATH = "/v1/trust-list"
# The backend refuses signatures more than 5 s in the future; PT1 tokens allow a
# little skew too. Warn well before a sale fails.
SKEW_WARN_S, SKEW_FAIL_S = 2.0, 5.0
NO_URL_FIX = "set [backend] url in /etc/pos-app/config.toml (https://...)"


def http_probe(
    url: str,
    *,
    connect_timeout_s: float = 3.0,
    read_timeout_s: float = 5.0,
    transport: Any = None,
) -> BackendReply:
    """GET the trust list with TLS verification on; translate failures into a reply."""
    import httpx

    timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
    options: dict[str, Any] = {"timeout": timeout, "verify": True, "follow_redirects": False}
    if transport is not None:
        options["transport"] = transport
    try:
        with httpx.Client(**options) as client:
            response = client.get(url.rstrip("/") + PROBE_PATH)
    except httpx.HTTPError as exc:
        return BackendReply(status_code=None, error=_describe(exc), tls_error=_is_tls(exc))
    return BackendReply(status_code=response.status_code, server_time=_date(response.headers))


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _date(headers: object) -> float | None:
    value = getattr(headers, "get", lambda _key: None)("date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def check_backend(env: DoctorEnv) -> Finding:
    name = "backend"
    url = env.effective.backend.url
    if not url:
        return fail(name, "no backend URL configured", NO_URL_FIX)
    reply = env.backend(url)
    if reply.tls_error:
        fix = (
            "the backend's certificate is not trusted here: check the URL's host name, the "
            "machine's date, and install the store's CA (update-ca-certificates)"
        )
        return fail(name, f"{url}: TLS verification failed ({reply.error})", fix)
    if reply.status_code is None:
        fix = "check the network cable, proxy and firewall (outbound HTTPS), and [backend] url"
        return fail(name, f"{url} unreachable: {reply.error}", fix)
    if reply.status_code >= 500:
        fix = "the backend has a problem: tell the payment operator"
        return warn(name, f"{url} answered HTTP {reply.status_code}", fix)
    # Plain HTTP is only accepted to this machine (the client refuses it elsewhere).
    channel = "TLS valid" if url.lower().startswith("https://") else "plain HTTP on this machine"
    return ok(name, f"{url} reachable, {channel} (HTTP {reply.status_code})")


def check_clock(env: DoctorEnv) -> Finding:
    name = "clock"
    url = env.effective.backend.url
    if not url:
        return warn(name, "no backend to compare the clock with", NO_URL_FIX)
    reply = env.backend(url)
    if reply.server_time is None:
        fix = "fix the 'backend' finding first"
        return warn(name, "the backend did not tell its time; skew unknown", fix)
    skew = env.now() - reply.server_time
    detail = f"this clock is {abs(skew):.1f} s {'ahead of' if skew > 0 else 'behind'} the backend"
    fix = "turn on network time: sudo timedatectl set-ntp true (or fix the NTP server)"
    if abs(skew) > SKEW_FAIL_S:
        return fail(name, f"{detail}: payments are refused", fix)
    if abs(skew) > SKEW_WARN_S:
        return warn(name, detail, fix)
    return ok(name, detail)
