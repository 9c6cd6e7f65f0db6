"""publish_on_commit: listeners run after commit, never for rolled-back work, and batch
listeners get one list per committed transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from mostrador.core import publish


@pytest.fixture
def heard():
    events, batches = [], []

    def listener(kind, payload):
        events.append((kind, payload["n"]))

    def batch_listener(batch):
        batches.append([payload["n"] for _kind, payload in batch])

    publish.subscribe("test.kind", listener)
    publish.subscribe_batch(batch_listener)
    yield events, batches
    publish.unsubscribe("test.kind", listener)
    publish.unsubscribe_batch(batch_listener)


@pytest.mark.django_db(transaction=True)
def test_one_batch_per_commit_without_rolled_back_savepoints(heard):
    events, batches = heard
    with transaction.atomic():
        publish.publish_on_commit("test.kind", {"n": 1})
        try:
            with transaction.atomic():
                publish.publish_on_commit("test.kind", {"n": 2})
                raise RuntimeError("roll this savepoint back")
        except RuntimeError:
            pass
        publish.publish_on_commit("test.kind", {"n": 3})
        assert events == []  # nothing before the commit
    assert events == [("test.kind", 1), ("test.kind", 3)]
    assert batches == [[1, 3]]

    with transaction.atomic():
        publish.publish_on_commit("test.kind", {"n": 4})
    assert batches == [[1, 3], [4]]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_publishes_nothing_and_blocks_nothing(heard):
    events, batches = heard
    with pytest.raises(RuntimeError), transaction.atomic():
        publish.publish_on_commit("test.kind", {"n": 1})
        raise RuntimeError("roll back")
    publish.publish_on_commit("test.kind", {"n": 2})  # autocommit: at once
    assert events == [("test.kind", 2)]
    assert batches == [[2]]


@pytest.mark.django_db(transaction=True)
def test_muted_publishes_nothing(heard):
    events, batches = heard
    with publish.muted(), transaction.atomic():
        publish.publish_on_commit("test.kind", {"n": 1})
    assert (events, batches) == ([], [])
