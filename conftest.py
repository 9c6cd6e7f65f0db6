import pytest

from mostrador.channels.email.adapter import forget_inboxes
from mostrador.core.testing import make_desk


@pytest.fixture(autouse=True)
def _fresh_inbox_cache():
    # Each test's database starts over; so must the routing cache that reflects it.
    forget_inboxes()
    yield
    forget_inboxes()


@pytest.fixture
def desk(db, django_capture_on_commit_callbacks):
    """The personas (ana, beto, carla, diego; elena, frank) and a catch-all e-mail inbox.

    Its after-commit listeners run here, as they would after a real commit: a batch listener
    only runs once every callback of the transaction has, so one left pending would silence
    batch listeners for the whole test."""
    with django_capture_on_commit_callbacks(execute=True):
        return make_desk()
