"""Reading the backend's answers: error code and detail, extra fields, the backend's time.

Kept apart from the client's request machinery (:mod:`pos_app.terminal.backend.client`).
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pos_app.core.api_contract import ContractError, ErrorAnswer, parse


def extra_of(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k not in ("error", "detail")}


def error_of(response: httpx.Response) -> tuple[str, str]:
    """The refusal's stable code and sentence; a proxy's page has neither: ``http_<status>``."""
    try:
        error = parse(ErrorAnswer, response.json())
    except (ValueError, ContractError):
        return f"http_{response.status_code}", response.reason_phrase
    return error.error, error.detail


def auth_hint(code: str, skew: float | None) -> str:
    if code == "bad_signature" and skew is not None and abs(skew) > 5:
        return f"this terminal's clock is {abs(skew):.0f} s off the backend's: fix it (NTP)"
    if code == "bad_signature":
        return "the terminal key may be revoked: enroll again with 'pos-app enroll'"
    return "check the terminal's store and terminal ids, or enroll again"


def server_time(response: httpx.Response) -> float | None:
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            data = response.json()
        except ValueError:
            data = None
        value = data.get("server_time") if isinstance(data, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
    date = response.headers.get("date")
    if date:
        try:
            return parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return None
    return None
