"""The thread a server process does its websocket database work in.

Django's ``database_sync_to_async`` opens and closes a connection around every call (the
connections live ``CONN_MAX_AGE`` = 0 under ASGI). A chat under load would pay that for every
message; instead one long-lived thread per process keeps its connection and runs the calls in
order. A broken connection (the database restarted) is dropped and the call runs again once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection

_executor = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="realtime-db")
# The thread's own context, the same for every call: Django finds its connections through
# context-local storage, so calls must neither share the caller's context (its connection
# belongs to another thread) nor start a new one each time (a connection per call).
_context = contextvars.Context()


def _call[T](fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
    try:
        return fn(*args, **kwargs)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block or connection.is_usable():
            raise
        connection.close()
        return fn(*args, **kwargs)
    except DatabaseError:
        if not connection.in_atomic_block and connection.connection is not None and \
                not connection.is_usable():
            connection.close()
        raise


async def run[T](fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _executor, functools.partial(_context.run, _call, fn, args, kwargs))


def close() -> None:
    """Close this thread's connection (tests, before their database is dropped)."""
    _executor.submit(_context.run, _close).result()


def _close() -> None:
    # An in-memory test database's connection belongs to the thread that created it.
    with contextlib.suppress(DatabaseError):
        connection.close()
