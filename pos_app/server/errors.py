"""Server-side errors: each maps to one HTTP status and one stable API code."""

from __future__ import annotations

from typing import Any

from pos_app.core.errors import BackendError


class ApiError(BackendError):
    """An error the API reports as ``{"error": code, "detail": message}``."""

    status: int = 400

    def __init__(
        self, status: int, code: str, detail: str, *, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail, code=code)
        self.status = status
        # Fields added to the error body beside "error" and "detail" (e.g. who holds a claim).
        self.extra = dict(extra or {})


def bad_signature(detail: str = "request signature missing or invalid") -> ApiError:
    return ApiError(401, "bad_signature", detail)


def forbidden(code: str, detail: str) -> ApiError:
    return ApiError(403, code, detail)


def not_found(code: str, detail: str) -> ApiError:
    return ApiError(404, code, detail)


def unprocessable(code: str, detail: str) -> ApiError:
    return ApiError(422, code, detail)


def conflict(code: str, detail: str) -> ApiError:
    return ApiError(409, code, detail)
