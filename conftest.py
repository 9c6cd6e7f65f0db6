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
def desk(db):
    """The personas (ana, beto, carla, diego; elena, frank) and a catch-all e-mail inbox."""
    return make_desk()
