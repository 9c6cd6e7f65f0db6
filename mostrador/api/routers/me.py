"""The token's own user."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from mostrador.api import render
from mostrador.api.schemas import MeOut

router = Router(tags=["me"])


@router.get("/me", response=MeOut)
def me(request: HttpRequest):
    """Who the token belongs to: the agent profile, role and teams."""
    return render.me(request.user)
