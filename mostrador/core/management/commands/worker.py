"""``mostrador worker``: a separate task consumer (scaled-out mode)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from huey.consumer import Consumer

from mostrador.core.tasks import huey


class Command(BaseCommand):
    help = "Run background tasks (outbound delivery, polling, sweeps) in this process."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--no-periodic", action="store_true",
                            help="leave periodic tasks to another worker (run one scheduler)")

    def handle(self, *args, threads: int, no_periodic: bool, **options) -> None:
        Consumer(huey, workers=threads, worker_type="thread", periodic=not no_periodic).run()
