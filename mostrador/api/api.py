"""The REST API under /api/v1/ (django-ninja): bearer tokens, JSON errors, one router per
resource. The OpenAPI document is served at /api/v1/openapi.json without a token."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseNotAllowed
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.security import HttpBearer

from mostrador.accounts.actions import user_for_token
from mostrador.api import errors
from mostrador.api.routers import (
    automation,
    bot,
    canned_replies,
    conversations,
    customers,
    help_center,
    inboxes,
    kb,
    me,
    messages,
    raw_inbound,
    routing,
    sla,
    webhooks,
)


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class MostradorAPI(NinjaAPI):
    """NinjaAPI whose every answer is JSON, including an unknown path (404) and a method the
    path does not take (405), which ninja and Django would answer in plain text or HTML."""

    def _get_urls(self):
        patterns = [_json_not_allowed(p) if isinstance(p, URLPattern) else p
                    for p in super()._get_urls()]
        patterns.append(path("<path:unknown>", _unknown_endpoint, name="unknown"))
        return patterns


def _json_not_allowed(pattern: URLPattern) -> URLPattern:
    view = pattern.callback

    def wrapped(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = errors.error_response(
                405, _("%(method)s is not allowed here; use %(allowed)s.")
                % {"method": request.method, "allowed": allowed})
            response["Allow"] = allowed
        return response

    wrapped.csrf_exempt = True  # type: ignore[attr-defined]
    return URLPattern(pattern.pattern, wrapped, pattern.default_args, pattern.name)


def _unknown_endpoint(request: HttpRequest, unknown: str):
    return errors.error_response(404, _("There is no endpoint /api/v1/%(path)s; see "
                                        "/api/v1/openapi.json.") % {"path": unknown})


_unknown_endpoint.csrf_exempt = True  # type: ignore[attr-defined]

api = MostradorAPI(
    title="Mostrador API", version="1", urls_namespace="api-v1", auth=BearerToken(),
    description="The help desk's REST API. Send `Authorization: Bearer <token>` (create one "
                "with `mostrador token create --user E`). Errors are JSON "
                "`{\"detail\": …, \"field\": …}`; lists are keyset pages "
                "`{\"items\": […], \"next_cursor\": …}`.",
)
errors.install(api)
for module in (me, customers, inboxes, conversations, messages, raw_inbound, sla,
               canned_replies, webhooks, routing, automation, kb, bot, help_center):
    api.add_router("", module.router)
