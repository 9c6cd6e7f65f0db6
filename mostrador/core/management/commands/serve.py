"""``mostrador serve``: the web server, plus the embedded task consumer and channel listeners."""

from __future__ import annotations

import logging
import socket

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand
from uvicorn.supervisors import Multiprocess

from mostrador.channels.registry import all_adapters
from mostrador.core import tasks

logger = logging.getLogger(__name__)


class _Config(uvicorn.Config):
    """uvicorn's own listener for several workers is created without a protocol number, so
    asyncio never sets TCP_NODELAY on accepted connections and every keep-alive response waits
    ~40 ms for Nagle's algorithm. Re-open the same descriptor as an explicit TCP socket."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP,
                                 fileno=sock.detach())
        return sock


class Command(BaseCommand):
    help = "Serve Mostrador over HTTP (uvicorn), with embedded workers unless REDIS_URL is set."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1,
                            help="web processes (scaled-out mode; embedded mode uses one)")
        parser.add_argument("--no-embedded", action="store_true",
                            help="do not run tasks or channel listeners in this process")

    def handle(self, *args, host: str, port: int, workers: int, no_embedded: bool,
               **options) -> None:
        stoppers = []
        if not no_embedded:
            if not settings.TASKS["redis_url"]:
                tasks.start_embedded_consumer()
                stoppers.append(tasks.stop_embedded_consumer)
            for adapter in all_adapters():
                stop = adapter.start_embedded()
                if stop is not None:
                    stoppers.append(stop)
        self.stdout.write(f"Mostrador serving on http://{host}:{port}")
        config = _Config("mostrador.asgi:application", host=host, port=port, workers=workers,
                         lifespan="off", log_level="warning", access_log=False)
        try:
            if workers > 1:
                Multiprocess(config, sockets=[config.bind_socket()]).run()
            else:
                uvicorn.Server(config).run()
        finally:
            for stop in reversed(stoppers):
                try:
                    stop()
                except Exception:
                    logger.exception("stopping %r failed", stop)
