"""After-commit notifications: the seam later capabilities (routing, SLA clocks, real-time
push, webhooks) hang their listeners on.

``publish_on_commit(kind, payload)`` calls every listener subscribed to ``kind`` once the
surrounding transaction has committed, so a listener never sees data that was rolled back. A
failing listener is logged and does not affect the writer or the other listeners.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)
Listener = Callable[[str, dict[str, Any]], None]
_listeners: dict[str, list[Listener]] = defaultdict(list)
_muted = threading.local()


def subscribe(kind: str, listener: Listener) -> None:
    if listener not in _listeners[kind]:
        _listeners[kind].append(listener)


def unsubscribe(kind: str, listener: Listener) -> None:
    if listener in _listeners[kind]:
        _listeners[kind].remove(listener)


@contextlib.contextmanager
def muted() -> Iterator[None]:
    """Publish nothing from this thread meanwhile: for bulk writers (the demo seeder) that
    bring derived state up to date themselves afterwards."""
    _muted.on = True
    try:
        yield
    finally:
        _muted.on = False


def publish_on_commit(kind: str, payload: dict[str, Any]) -> None:
    if getattr(_muted, "on", False):
        return
    listeners = [*_listeners.get(kind, ()), *_listeners.get("*", ())]
    if not listeners:
        return

    def deliver() -> None:
        for listener in listeners:
            try:
                listener(kind, payload)
            except Exception:
                logger.exception("listener %r failed on %s", listener, kind)

    transaction.on_commit(deliver)
