"""``ReviewsBackend`` over the terminal's signed ``BackendClient`` (BACKEND-API.md).

The client signs, retries and translates errors; this adapter only knows the review
endpoints. A decision POST whose answer was lost (``OutcomeUnknown``) is simply sent
again later with the same idempotency key: the backend replays its stored answer, so
the decision is never applied twice. A claim refused by the backend (another manager
at another till holds the sale) becomes ``ClaimedByOther`` naming the holder.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from pos_app.core.api_contract import ClaimAnswer, DecisionAnswer, DecisionBody, ReviewedSale
from pos_app.core.errors import PosError
from pos_app.terminal.backend.client import BackendClient
from pos_app.terminal.errors import BackendRejected
from pos_app.terminal.reviews.queue import ClaimedByOther


class ClientReviewsBackend:
    def __init__(self, client: BackendClient) -> None:
        self._client = client

    def list_reviews(self, store_id: str, status: str | None = None) -> Sequence[ReviewedSale]:
        return self._client.list_reviews(store_id, status).reviews

    def post_decision(
        self, sale_id: str, body: DecisionBody, *, idempotency_key: str
    ) -> DecisionAnswer:
        return self._client.decide_review(sale_id, body, idempotency_key=idempotency_key)

    def claim(self, sale_id: str, *, reviewer_id: str) -> ClaimAnswer:
        """The backend's claim; ``ClaimedByOther`` when another reviewer holds the sale."""
        try:
            return self._client.claim_review(
                sale_id, reviewer_id=reviewer_id, idempotency_key=_fresh_key("claim")
            )
        except BackendRejected as exc:
            raise _claimed(sale_id, exc) from exc

    def release(self, sale_id: str, *, reviewer_id: str) -> None:
        try:
            self._client.release_review(
                sale_id, reviewer_id=reviewer_id, idempotency_key=_fresh_key("release")
            )
        except BackendRejected as exc:
            raise _claimed(sale_id, exc) from exc


def _fresh_key(action: str) -> str:
    # A new key per attempt from the manager: a later claim must not replay an old answer
    # (the client still reuses this key for its own retries of the same request).
    return f"review-{action}-{uuid.uuid4().hex}"


def _claimed(sale_id: str, exc: BackendRejected) -> PosError:
    holder = exc.details.get("claimed_by")
    at = exc.details.get("claimed_at")
    if exc.code != "review_claimed" or not isinstance(holder, str) or not isinstance(at, int):
        return exc
    return ClaimedByOther(sale_id, claimed_by=holder, claimed_at=at)
