"""Visitors' messages into the database, in batches.

Each server process has one :data:`intake`. A message waits only while the batch before it is
written: under light load every message is written alone at once; under heavy load the
messages that arrived meanwhile are written together in one transaction (one commit, a few
bulk statements), which is what lets one process take hundreds of chat messages a second.
"""

from __future__ import annotations

import asyncio
import logging

from mostrador.channels.webchat.actions import Outcome, Submission, receive_visitor_messages
from mostrador.realtime import db

logger = logging.getLogger(__name__)

MAX_BATCH = 200


class Intake:
    def __init__(self) -> None:
        self.pending: list[tuple[Submission, asyncio.Future[Outcome]]] = []
        self.running = False
        self.task: asyncio.Task | None = None

    async def submit(self, submission: Submission) -> Outcome:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self.pending.append((submission, future))
        if not self.running:
            self.running = True
            self.task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
                try:
                    outcomes = await db.run(receive_visitor_messages, [s for s, _f in batch])
                except Exception as exc:
                    for _submission, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_submission, future), outcome in zip(batch, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
        finally:
            self.running = False


intake = Intake()
