"""The one door for outbound HTTP (webhooks today; messaging channels later).

Everything goes through :func:`post_json` with explicit timeouts, so tests can point it at a
local receiver and nothing in the project opens sockets on its own terms.
"""

from __future__ import annotations

import dataclasses
import time

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# What is kept of a receiver's answer in logs.
MAX_BODY_KEPT = 2000


@dataclasses.dataclass(frozen=True)
class HttpResult:
    status_code: int | None
    body: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post_json(url: str, body: bytes, headers: dict[str, str], *,
              timeout: httpx.Timeout | float = DEFAULT_TIMEOUT) -> HttpResult:
    """POST ``body`` (already serialised JSON) and report what happened; never raises for
    network trouble, which comes back as ``error`` with no status code. Redirects are not
    followed: a receiver that moved must be reconfigured, not guessed."""
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(url, content=body,
                                   headers={"Content-Type": "application/json", **headers})
    except httpx.HTTPError as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        return HttpResult(None, "", f"{type(exc).__name__}: {exc}"[:500], elapsed)
    elapsed = int((time.perf_counter() - started) * 1000)
    return HttpResult(response.status_code, response.text[:MAX_BODY_KEPT], "", elapsed)
