"""Abuse limits of the chat, counted in each server process (the process holds the
connections, so it needs no shared store and adds no round trip to every message).

- open connections per client address (``ip_connections``);
- messages per visitor per minute (``visitor_messages_per_minute``) and per client address
  (``ip_messages_per_minute``), as token buckets that refill continuously.

With several server processes behind a balancer, a client spread over them gets at most the
limit in each; the message-size limit is checked in the consumer before any of this.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

from django.utils.translation import gettext as _

from mostrador.channels.webchat.adapter import WebchatConfig


class Connections:
    def __init__(self) -> None:
        self.open: dict[str, int] = defaultdict(int)

    def take(self, address: str, limit: int) -> bool:
        if self.open[address] >= limit:
            return False
        self.open[address] += 1
        return True

    def give_back(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


class Buckets:
    """Token buckets keyed by visitor and by address: ``per_minute`` tokens, refilled evenly."""

    def __init__(self) -> None:
        self.state: dict[str, tuple[float, float]] = {}

    def _take(self, key: str, per_minute: int, now: float) -> float:
        """0 when a token was taken, else the seconds until one is free."""
        tokens, at = self.state.get(key, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - at) * per_minute / 60.0)
        if tokens >= 1.0:
            self.state[key] = (tokens - 1.0, now)
            return 0.0
        self.state[key] = (tokens, now)
        return (1.0 - tokens) * 60.0 / per_minute

    def _give(self, key: str) -> None:
        tokens, at = self.state[key]
        self.state[key] = (tokens + 1.0, at)

    def take(self, visitor: str, address: str, config: WebchatConfig,
             *, now: float | None = None) -> int:
        """0 when the message may go; else whole seconds to wait (nothing is taken then)."""
        now = time.monotonic() if now is None else now
        if len(self.state) > 100_000:
            self.state.clear()
        wait = self._take(f"v:{visitor}", config.visitor_messages_per_minute, now)
        if wait:
            return math.ceil(wait)
        wait = self._take(f"a:{address}", config.ip_messages_per_minute, now)
        if wait:
            self._give(f"v:{visitor}")
            return math.ceil(wait)
        return 0


def rate_limited_text() -> str:
    return _("You are sending messages too fast. Your message will go in a moment.")


connections = Connections()
messages = Buckets()
