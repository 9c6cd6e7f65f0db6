"""An HTTP client for the API: bearer token, JSON in and out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from mostrador.core.testing import api_token_for

BASE = "/api/v1"


class ApiClient:
    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def get(self, path: str, params: dict[str, Any] | None = None, **kwargs):
        return self.client.get(BASE + path, params or {}, headers=self._headers(
            kwargs.pop("headers", None)), **kwargs)

    def send(self, method: str, path: str, body: Any = None, *, raw: bytes | str | None = None,
             headers: dict[str, str] | None = None):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        call = getattr(self.client, method.lower())
        return call(BASE + path, data=data, content_type="application/json",
                    headers=self._headers(headers))

    def post(self, path: str, body: Any = None, **kwargs):
        return self.send("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs):
        return self.send("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.send("DELETE", path, **kwargs)


def ok(response, status: int = 200) -> Any:
    """The JSON body, after checking the status (showing the body when it differs)."""
    assert response.status_code == status, (response.status_code, response.content[:2000])
    return response.json()


def error(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:2000])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "field"}, body
    assert body["detail"]
    return body


@pytest.fixture(autouse=True)
def _static_root(settings):
    # WhiteNoise warns (an error here) when STATIC_ROOT is missing, as in a fresh data folder.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def client_for(desk):
    """``client_for(user)``: an API client holding a fresh token of ``user``."""
    return lambda user: ApiClient(api_token_for(user))


@pytest.fixture
def api(client_for, desk):
    """Ana (an L1 agent) calling the API."""
    return client_for(desk.ana)


@pytest.fixture
def outbox(settings, tmp_path):
    """Outbound mail written as .eml files to a folder of this test."""
    folder = tmp_path / "outbox"
    settings.MOSTRADOR = {**settings.MOSTRADOR, "OUTBOX_DIR": str(folder), "SMTP_URL": ""}
    return folder
