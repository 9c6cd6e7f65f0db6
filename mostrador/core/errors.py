"""Errors shared by every app.

    MostradorError
     ├── ValidationFailed      input is wrong; ``field`` names it when one field is to blame
     ├── NotFound              missing, or not visible to the acting user (same answer)
     ├── PermissionDenied      visible, but the acting user may not do this
     └── Conflict              the object changed under us or the request repeats a unique value

Messages are for people: say what is wrong and what to do next. The API turns them into JSON
``{"detail": …, "field": …}`` with 400/404/403/409.
"""

from __future__ import annotations


class MostradorError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.field = field


class ValidationFailed(MostradorError):
    status = 400


class NotFound(MostradorError):
    status = 404


class PermissionDenied(MostradorError):
    status = 403


class Conflict(MostradorError):
    status = 409
