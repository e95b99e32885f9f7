"""The customer's wallet app, minus the phone: signed calls to the wallet API.

Every request is signed with the wallet's device key (RFC 9421, tag
``wallet-v1``); step-up decisions are device signatures over the challenge
(BACKEND-API.md). Thread-safe for one caller at a time per instance; the
wallet window calls it from its background lane.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.errors import BackendError
from pos_app.paytoken import httpsig, keys


@dataclass(frozen=True, slots=True)
class PendingStepUp:
    challenge_id: str
    sale_id: str
    store_id: str
    total: int
    currency: str
    expires_at: int
    summary: str


@dataclass(frozen=True, slots=True)
class WalletView:
    wallet_id: str
    display_name: str
    balance: int
    currency: str
    frozen: bool


class WalletClient:
    def __init__(
        self,
        base_url: str,
        *,
        key: Ed25519PrivateKey,
        wallet_id: str = "",
        device_id: str = "",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key, self.wallet_id, self.device_id = key, wallet_id, device_id
        self._http = httpx.Client(transport=transport, timeout=5.0)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if method == "POST":
            headers["Idempotency-Key"] = f"wallet-{uuid.uuid4().hex}"
        url = self.base_url + path
        keyid = self.device_id or keys.kid_hex(self.key)
        headers.update(
            httpsig.sign_request(
                method,
                url,
                headers,
                data,
                key=self.key,
                keyid=keyid,
                tag=httpsig.TAG_WALLET,
                created=int(time.time()),
                nonce=uuid.uuid4().hex,
            )
        )
        with self._lock:
            try:
                response = self._http.request(method, url, content=data, headers=headers)
            except httpx.HTTPError as exc:
                raise BackendError(f"the wallet service cannot be reached ({exc})") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise BackendError(f"the wallet service refused: {detail}")
        result: dict[str, Any] = response.json()
        return result

    def create(self, display_name: str, *, home_region: str = "JP-13") -> None:
        body = {
            "display_name": display_name,
            "device_public_key": keys.b64url_encode(keys.public_raw(self.key)),
            "home_region": home_region,
        }
        created = self._request("POST", "/v1/wallets", body)
        self.wallet_id, self.device_id = created["wallet_id"], created["device_id"]

    def top_up(self, amount: int) -> int:
        return int(
            self._request("POST", f"/v1/wallets/{self.wallet_id}/top-ups", {"amount": amount})[
                "balance"
            ]
        )

    def mint(self) -> tuple[str, int]:
        minted = self._request("POST", f"/v1/wallets/{self.wallet_id}/tokens")
        return str(minted["token"]), int(minted["expires_at"])

    def view(self) -> WalletView:
        w = self._request("GET", f"/v1/wallets/{self.wallet_id}")
        return WalletView(
            w["wallet_id"], w["display_name"], int(w["balance"]), w["currency"], bool(w["frozen"])
        )

    def step_ups(self) -> tuple[PendingStepUp, ...]:
        found = self._request("GET", f"/v1/wallets/{self.wallet_id}/step-ups")
        return tuple(_step_up(item) for item in found.get("step_ups", []))

    def decide(self, step: PendingStepUp, decision: str) -> None:
        """``decision``: "approve" or "deny"; signed by this device."""
        message = httpsig.step_up_message(
            step.challenge_id, step.currency, decision, step.sale_id, step.store_id, step.total
        )
        signature = keys.b64url_encode(self.key.sign(message))
        self._request(
            "POST", f"/v1/step-ups/{step.challenge_id}/{decision}", {"signature": signature}
        )

    def freeze(self) -> None:
        self._request("POST", f"/v1/wallets/{self.wallet_id}/freeze")


def _step_up(item: dict[str, Any]) -> PendingStepUp:
    lines = item.get("basket", [])
    summary = ", ".join(f"{li['name']} x{li['quantity']}" for li in lines[:4])
    if int(item.get("line_count", len(lines))) > 4:
        summary += ", …"
    return PendingStepUp(
        challenge_id=str(item["challenge_id"]),
        sale_id=str(item["sale_id"]),
        store_id=str(item["store_id"]),
        total=int(item["total"]),
        currency=str(item["currency"]),
        expires_at=int(item.get("expires_at", 0)),
        summary=summary,
    )
