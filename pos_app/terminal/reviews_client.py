"""``ReviewsBackend`` over the terminal's signed ``BackendClient`` (BACKEND-API.md).

The client signs, retries and translates errors; this adapter only knows the two
review endpoints. A decision POST whose answer was lost (``OutcomeUnknown``) is
simply sent again later with the same idempotency key: the backend replays its
stored answer, so the decision is never applied twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from pos_app.core.errors import BackendError


class _SignedJson(Protocol):
    def _json(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]: ...


class ClientReviewsBackend:
    def __init__(self, client: _SignedJson) -> None:
        # BackendClient has no review methods yet; its signed JSON call is the seam.
        self._client = client

    def list_reviews(self, store_id: str, status: str | None = None) -> Sequence[Mapping[str, Any]]:
        query = {"store_id": store_id, **({"status": status} if status else {})}
        data = self._client._json("GET", f"/v1/reviews?{urlencode(query)}")
        reviews = data.get("reviews")
        if not isinstance(reviews, list):
            raise BackendError("GET /v1/reviews: the answer has no 'reviews' list")
        return [r for r in reviews if isinstance(r, dict)]

    def post_decision(
        self, sale_id: str, *, decision: str, reviewer_id: str, note: str, idempotency_key: str
    ) -> Mapping[str, Any]:
        body = {"decision": decision, "reviewer_id": reviewer_id, "note": note}
        path = f"/v1/reviews/{quote(sale_id, safe='')}/decision"
        return self._client._json("POST", path, body=body, key=idempotency_key)
