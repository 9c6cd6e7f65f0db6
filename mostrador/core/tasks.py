"""The one door to background work.

Every task in the project is declared with :func:`task` (or :func:`periodic_task`) from this
module and enqueued with :func:`enqueue_on_commit`, never through huey directly, so the backend
can change in one place:

* embedded: ``SqliteHuey`` in ``./var/tasks.sqlite3``, consumed by threads inside the server
  process (:func:`start_embedded_consumer`);
* scaled out (``REDIS_URL`` set): ``RedisHuey``, consumed by ``mostrador worker`` processes;
* immediate (``MOSTRADOR_TASKS_IMMEDIATE=1``, tests and one-shot commands): run inline.

Tasks take ids, not objects, and are safe to run twice.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from huey import RedisHuey, SqliteHuey
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer

logger = logging.getLogger(__name__)


def _build_huey() -> Huey:
    config = settings.TASKS
    immediate = bool(config["immediate"])
    if config["redis_url"]:
        return RedisHuey(config["name"], url=config["redis_url"], immediate=immediate, utc=True)
    # fsync off: a task lost to a power cut (not to a crash: WAL keeps those) is found again by
    # the sweeps, which re-enqueue replies never tried and payloads never processed; a durable
    # sync per enqueue would otherwise cost every reply several milliseconds.
    return SqliteHuey(
        config["name"], filename=config["sqlite_path"], immediate=immediate, utc=True,
        timeout=20, fsync=False,
    )


huey: Huey = _build_huey()


@huey.on_shutdown()
def _close_worker_connections() -> None:
    # Runs in each worker thread as it stops: its database connection goes with it.
    connections.close_all()


def _with_fresh_connections(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        if huey.immediate:
            return fn(*args, **kwargs)
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return inner


def task(**options: Any) -> Callable[[Callable[..., Any]], TaskWrapper]:
    """Declare a background task (huey options: ``retries``, ``retry_delay``, ``priority``…)."""

    def decorator(fn: Callable[..., Any]) -> TaskWrapper:
        return huey.task(name=f"{fn.__module__}.{fn.__qualname__}", **options)(
            _with_fresh_connections(fn)
        )

    return decorator


def periodic_task(validate_datetime: Callable[..., bool], **options: Any):
    def decorator(fn: Callable[..., Any]) -> TaskWrapper:
        return huey.periodic_task(
            validate_datetime, name=f"{fn.__module__}.{fn.__qualname__}", **options
        )(_with_fresh_connections(fn))

    return decorator


def enqueue_on_commit(task_fn: TaskWrapper, *args: Any, delay: float | None = None) -> None:
    """Enqueue after the surrounding transaction commits (at once outside a transaction)."""

    def send() -> None:
        if delay:
            task_fn.schedule(args=args, delay=delay)
        else:
            task_fn(*args)

    transaction.on_commit(send, robust=True)


@contextlib.contextmanager
def run_inline() -> Iterator[None]:
    """Run tasks in the caller, after commit, for the duration (one-shot work such as seeding,
    where a trip through the queue would only add a write per task)."""
    previous = huey.immediate
    huey.immediate = True
    try:
        yield
    finally:
        huey.immediate = previous


class _EmbeddedConsumer(Consumer):
    # Signal handlers can only be installed from the main thread, which belongs to the web
    # server; the server stops us explicitly instead.
    def _set_signal_handlers(self) -> None:
        return None


_embedded: _EmbeddedConsumer | None = None
_embedded_lock = threading.Lock()


def start_embedded_consumer() -> Consumer | None:
    """Start worker threads and the scheduler inside this process (embedded mode)."""
    global _embedded
    if huey.immediate:
        return None
    with _embedded_lock:
        if _embedded is None:
            _embedded = _EmbeddedConsumer(
                huey, workers=settings.TASKS["workers"], worker_type="thread", periodic=True,
                check_worker_health=False,
            )
            _embedded.start()
            logger.info("task consumer started with %s threads", settings.TASKS["workers"])
    return _embedded


def stop_embedded_consumer() -> None:
    global _embedded
    with _embedded_lock:
        if _embedded is not None:
            _embedded.stop(graceful=True)
            _embedded = None
