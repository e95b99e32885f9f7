"""Errors of the terminal's backend client, enrollment and checkout.

All sit under the project's tree (``pos_app.core.errors``), so the UI and the
CLI handle them by class without knowing httpx:

    BackendError
    ├── BackendUnavailable      the request did not reach the backend (safe to retry or go offline)
    │   └── OutcomeUnknown      the request may have reached it: reconcile with GET before a retry
    ├── BackendRejected         the backend answered with an error (4xx), with its stable code
    │   └── BackendAuthError    401/403: signature, clock or enrollment problem
    ├── BackendServerError      5xx after the retries allowed
    └── EnrollmentError         enrollment could not complete
    ConfigError
    ├── InsecureBackendUrl      plain HTTP to a host that is not this machine
    └── NotEnrolled             no terminal credential yet
    DomainError
    └── CheckoutError           a cashier intent that the sale's state does not allow
"""

from __future__ import annotations

from typing import Any

from pos_app.core.errors import BackendError, ConfigError, DomainError
from pos_app.core.reasons import ReasonCode


class BackendUnavailable(BackendError):
    code = ReasonCode.BACKEND_UNAVAILABLE


class OutcomeUnknown(BackendUnavailable):
    """Sent, but no answer: the backend may or may not have acted on it."""

    code = ReasonCode.OUTCOME_UNKNOWN


class BackendRejected(BackendError):
    code = "backend_rejected"

    def __init__(
        self, message: str, *, code: str, status: int, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        # The error body's fields beside "error" and "detail" (e.g. who holds a review claim).
        self.details = dict(details or {})


class BackendAuthError(BackendRejected):
    pass


class BackendServerError(BackendError):
    code = "backend_server_error"


class EnrollmentError(BackendError):
    code = "enrollment_failed"


class InsecureBackendUrl(ConfigError):
    code = "insecure_backend_url"


class NotEnrolled(ConfigError):
    code = ReasonCode.NOT_ENROLLED


class CheckoutError(DomainError):
    code = "checkout_error"
