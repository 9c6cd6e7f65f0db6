"""The REST API under /api/v1/ (django-ninja): bearer tokens, JSON errors."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer

from mostrador.accounts.actions import user_for_token


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(title="Mostrador API", version="1", urls_namespace="api-v1", auth=BearerToken())
