import pytest

from mostrador.core.testing import make_desk


@pytest.fixture
def desk(db):
    """The personas (ana, beto, carla, diego; elena, frank) and a catch-all e-mail inbox."""
    return make_desk()
