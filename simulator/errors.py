"""Errors with Airflow's names. Raised anywhere, rendered once by server/problems.py.

Like Airflow's api_connexion.exceptions, the first positional argument is the
*title* and detail defaults to None: many Airflow handlers put their message in
the title and leave detail null, and we copy that wording verbatim.
"""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    status: ClassVar[int] = 500
    type_name: ClassVar[str | None] = "Unknown"
    default_title: ClassVar[str | None] = "Internal Server Error"

    def __init__(
        self,
        title: str | None = None,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        untitled: bool = False,
    ) -> None:
        self.title = None if untitled else (title if title is not None else self.default_title)
        self.detail = detail
        self.headers = headers or {}
        super().__init__(self.title or detail or self.__class__.__name__)


class BadRequest(ApiError):
    status = 400
    type_name = "BadRequest"
    default_title = "Bad Request"


class Unauthenticated(ApiError):
    status = 401
    type_name = "Unauthenticated"
    default_title = "Unauthorized"


class PermissionDenied(ApiError):
    status = 403
    type_name = "PermissionDenied"
    default_title = "Forbidden"


class NotFound(ApiError):
    status = 404
    type_name = "NotFound"
    default_title = "Not Found"


class NotAcceptable(ApiError):
    """406. Airflow answers it outside the problem format: a bare flask Response (text/html)."""

    status = 406
    type_name = None
    default_title = "Not Acceptable"

    def __init__(self, body: str = "") -> None:
        super().__init__()
        self.body = body


class AlreadyExists(ApiError):
    status = 409
    type_name = "AlreadyExists"
    default_title = "Conflict"


# Airflow uses the same class and link for "exists" and "in use" conflicts.
Conflict = AlreadyExists


class PayloadTooLarge(ApiError):
    """413: a control API body past its bound (a snapshot document)."""

    status = 413
    type_name = None
    default_title = "Payload Too Large"


class UnsupportedMediaType(ApiError):
    """415 from the request-body check; Airflow's link map has no entry for it."""

    status = 415
    type_name = None
    default_title = "Unsupported Media Type"


class Unknown(ApiError):
    status = 500
    type_name = "Unknown"
    default_title = "Internal Server Error"
