"""Every failure of the REST API answers JSON ``{"detail": "<message>", "field": <name>|null}``.

    400  the input is wrong: a field fails validation (``field`` names it), the body is not JSON,
         the cursor is not valid for this list (ValidationFailed, ninja's ValidationError)
    401  no valid bearer token
    403  the token's user may not do this (PermissionDenied)
    404  no such object, or not visible to the token's user (NotFound), or no such endpoint
    405  the endpoint does not take this method
    409  the object changed under us, or the request repeats a unique value (Conflict)
    413  the body is larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    500  a bug on our side; logged with its traceback

ninja answers a failed input validation with 422 and a list of pydantic errors; we answer 400
and name the first failing field, so a client handles one shape for every kind of bad input.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pydantic
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from mostrador.core.errors import MostradorError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

# Where ninja says an input came from; the client only needs the name inside it.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def error_response(status: int, detail: str, field: str | None = None) -> JsonResponse:
    return JsonResponse({"detail": detail, "field": field}, status=status)


def _field_name(loc: tuple[Any, ...] | list[Any], body_params: int) -> str | None:
    parts = list(loc)
    source = parts.pop(0) if parts and parts[0] in _SOURCES else None
    if source == "body" and parts and body_params:
        # ninja nests a JSON body under the view's parameter name ("payload").
        parts.pop(0)
    return ".".join(str(p) for p in parts) or None


def _pydantic_message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "is not valid"))
    # Our own validators raise ValueError; pydantic prefixes their text.
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def describe_validation_errors(errors: list[Mapping[str, Any]], *,
                               prefix: str = "", body_params: int = 1) -> tuple[str, str | None]:
    """(message, field) for the first of pydantic-style ``errors``."""
    if not errors:
        return _("The input is not valid."), None
    first = errors[0]
    field = _field_name(first.get("loc", ()), body_params)
    if prefix:
        field = f"{prefix}.{field}" if field else prefix
    if field is None:
        if first.get("type") == "missing":
            return _("The request body is missing; send a JSON object."), None
        if first.get("type") in {"model_type", "dict_type", "model_attributes_type"}:
            return _("The request body must be a JSON object."), None
        return _pydantic_message(first), None
    return f"{field}: {_pydantic_message(first)}", field


def _on_mostrador_error(request: HttpRequest, exc: MostradorError) -> HttpResponse:
    return error_response(exc.status, exc.message, exc.field)


def _on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    detail, field = describe_validation_errors(exc.errors)
    return error_response(400, detail, field)


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if exc.status_code == 400 and isinstance(cause, ValueError):
        # ninja wraps json.JSONDecodeError (and UnicodeDecodeError) from the body parser.
        return error_response(400, _("The request body is not valid JSON: %(error)s")
                              % {"error": cause})
    if isinstance(exc, AuthenticationError):
        response = error_response(401, _("A valid API token is required: send the header "
                                         "'Authorization: Bearer <token>'."))
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    return error_response(exc.status_code, str(exc))


def _on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, _("Not found."))


def _on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(413, _("The request body is larger than the limit of %(limit)s "
                                 "bytes.") % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("%s %s failed", request.method, request.path, exc_info=exc)
    # Error reporters (and the test client, which re-raises) listen to this signal.
    got_request_exception.send(sender=None, request=request)
    return error_response(500, _("Something went wrong on our side; the error was logged. "
                                 "Try again, and tell the administrator if it persists."))


def install(api: NinjaAPI) -> None:
    api.add_exception_handler(MostradorError, _on_mostrador_error)
    api.add_exception_handler(NinjaValidationError, _on_validation_error)
    api.add_exception_handler(HttpError, _on_http_error)
    api.add_exception_handler(Http404, _on_404)
    api.add_exception_handler(RequestDataTooBig, _on_too_big)
    api.add_exception_handler(Exception, _on_unexpected)


@contextmanager
def renamed_fields(names: Mapping[str, str]) -> Iterator[None]:
    """Report an action's field under the name the API uses for it (``target`` → ``into``)."""
    try:
        yield
    except MostradorError as exc:
        if exc.field in names:
            exc.field = names[exc.field]
        raise


def config_error(exc: Exception, *, prefix: str = "config") -> tuple[str, str | None]:
    """(message, field) for a channel config that does not validate."""
    cause = exc.__cause__
    if isinstance(cause, pydantic.ValidationError):
        return describe_validation_errors(cause.errors(include_url=False), prefix=prefix,
                                          body_params=0)
    return str(exc), prefix
