"""After-commit notifications: the seam later capabilities (routing, SLA clocks, real-time
push, webhooks) hang their listeners on.

``publish_on_commit(kind, payload)`` calls every listener subscribed to ``kind`` once the
surrounding transaction has committed, so a listener never sees data that was rolled back. A
failing listener is logged and does not affect the writer or the other listeners.

``subscribe_batch(listener)`` gets, once per committed transaction, the list of every
``(kind, payload)`` it published (events of rolled-back savepoints left out), so that work
worth doing once per conversation (SLA clocks) is done once for a whole batch of mail. The
batch goes out with the last delivery still queued in the thread; a test that leaves on-commit
callbacks unrun (pytest-django's default) must run them (``django_capture_on_commit_callbacks``)
before it expects batch listeners to have run.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)
Listener = Callable[[str, dict[str, Any]], None]
BatchListener = Callable[[list[tuple[str, dict[str, Any]]]], None]
_listeners: dict[str, list[Listener]] = defaultdict(list)
_batch_listeners: list[BatchListener] = []
_muted = threading.local()
_cause = threading.local()
_delivered = threading.local()


def subscribe(kind: str, listener: Listener) -> None:
    if listener not in _listeners[kind]:
        _listeners[kind].append(listener)


def unsubscribe(kind: str, listener: Listener) -> None:
    if listener in _listeners[kind]:
        _listeners[kind].remove(listener)


def subscribe_batch(listener: BatchListener) -> None:
    if listener not in _batch_listeners:
        _batch_listeners.append(listener)


def unsubscribe_batch(listener: BatchListener) -> None:
    if listener in _batch_listeners:
        _batch_listeners.remove(listener)


@contextlib.contextmanager
def muted() -> Iterator[None]:
    """Publish nothing from this thread meanwhile: for bulk writers (the demo seeder) that
    bring derived state up to date themselves afterwards."""
    _muted.on = True
    try:
        yield
    finally:
        _muted.on = False


@contextlib.contextmanager
def caused_by(cause: str) -> Iterator[None]:
    """Mark every event published from this thread meanwhile with ``payload["cause"]``, so
    listeners can tell the writes they provoked themselves (a trigger's actions) from the
    changes people made: the loop guard of automation."""
    previous = getattr(_cause, "value", None)
    _cause.value = cause
    try:
        yield
    finally:
        _cause.value = previous


def current_cause() -> str | None:
    return getattr(_cause, "value", None)


def publish_on_commit(kind: str, payload: dict[str, Any]) -> None:
    if getattr(_muted, "on", False):
        return
    cause = getattr(_cause, "value", None)
    if cause is not None:
        payload = {**payload, "cause": cause}
    listeners = [*_listeners.get(kind, ()), *_listeners.get("*", ())]
    if not listeners and not _batch_listeners:
        return
    delivery = _Delivery(kind, payload, listeners)
    queued = _queued()
    queued[:] = [ref for ref in queued if ref() is not None]
    queued.append(weakref.ref(delivery))
    transaction.on_commit(delivery)


class _Delivery:
    """One event's on-commit callback. Django keeps it until the commit and drops it if its
    savepoint rolls back; the weak references in ``_queued`` then die with it, which is how
    the last delivery of a commit knows it is the last."""

    __slots__ = ("__weakref__", "kind", "listeners", "payload")

    def __init__(self, kind: str, payload: dict[str, Any], listeners: list[Listener]) -> None:
        self.kind, self.payload, self.listeners = kind, payload, listeners

    def __call__(self) -> None:
        for listener in self.listeners:
            try:
                listener(self.kind, self.payload)
            except Exception:
                logger.exception("listener %r failed on %s", listener, self.kind)
        queued = _queued()
        queued[:] = [ref for ref in queued if (other := ref()) is not None and other is not self]
        batch = _delivered.__dict__.setdefault("events", [])
        batch.append((self.kind, self.payload))
        if not queued:
            _delivered.events = []
            _deliver_batch(batch)


def _queued() -> list[weakref.ref]:
    return _delivered.__dict__.setdefault("queued", [])


def _deliver_batch(batch: list[tuple[str, dict[str, Any]]]) -> None:
    for listener in list(_batch_listeners):
        try:
            listener(batch)
        except Exception:
            logger.exception("batch listener %r failed on %d events", listener, len(batch))
