"""How many requests one address may send from the help center: at most ``REQUESTS`` in any
``WINDOW_SECONDS``, counted in Django's cache (Redis when scaled out, so every web process
counts together; each process's memory in the embedded mode, which runs one).

The window slides by the minute: one counter per address and minute, summed over the last
ten. A request takes its place first (an atomic increment) and gives it back when the sum is
over the limit, so two requests racing for the last place cannot both get it.
"""

from __future__ import annotations

import contextlib
import time

from django.core.cache import cache

REQUESTS = 5
WINDOW_SECONDS = 600
_BUCKET_SECONDS = 60


def _keys(address: str, now: float) -> list[str]:
    minute = int(now // _BUCKET_SECONDS)
    return [f"portal:requests:{address}:{m}"
            for m in range(minute - WINDOW_SECONDS // _BUCKET_SECONDS + 1, minute + 1)]


def take_request_place(address: str, *, now: float | None = None) -> bool:
    """Count one request from ``address``; False (and nothing counted) when it already sent
    ``REQUESTS`` in the window."""
    keys = _keys(address, time.time() if now is None else now)
    current = keys[-1]
    cache.add(current, 0, timeout=WINDOW_SECONDS + _BUCKET_SECONDS)
    try:
        mine = cache.incr(current)
    except ValueError:  # evicted between add and incr
        cache.set(current, 1, timeout=WINDOW_SECONDS + _BUCKET_SECONDS)
        mine = 1
    earlier = sum(int(v) for v in cache.get_many(keys[:-1]).values())
    if earlier + mine > REQUESTS:
        cache.decr(current)
        return False
    return True


def give_back_request_place(address: str, *, now: float | None = None) -> None:
    """Undo :func:`take_request_place` (the request failed and was not sent)."""
    current = _keys(address, time.time() if now is None else now)[-1]
    with contextlib.suppress(ValueError):  # already expired
        cache.decr(current)


def forget(address: str, *, now: float | None = None) -> None:
    """Clear an address's counters (tests)."""
    cache.delete_many(_keys(address, time.time() if now is None else now))
