import pytest

from mostrador.automation.engine import forget_compiled
from mostrador.channels.email.adapter import forget_inboxes
from mostrador.core.testing import make_desk
from mostrador.knowledge.semantic import forget as forget_semantic


@pytest.fixture(autouse=True)
def _fresh_inbox_cache():
    # Each test's database starts over; so must the caches that reflect it (mail routing,
    # compiled triggers, the semantic index, whose generation counter a rolled-back test
    # takes back).
    forget_inboxes()
    forget_compiled()
    forget_semantic()
    yield
    forget_inboxes()
    forget_compiled()
    forget_semantic()


@pytest.fixture
def desk(db, django_capture_on_commit_callbacks):
    """The personas (ana, beto, carla, diego; elena, frank) and a catch-all e-mail inbox.

    Its after-commit listeners run here, as they would after a real commit: a batch listener
    only runs once every callback of the transaction has, so one left pending would silence
    batch listeners for the whole test."""
    with django_capture_on_commit_callbacks(execute=True):
        return make_desk()
