import os

import pytest
from channels.layers import channel_layers

from mostrador.channels.webchat import availability
from mostrador.realtime import db, relay


@pytest.fixture(autouse=True)
def _fresh_layer(settings):
    """Each test gets its own channel layer (and, on Redis, its own key prefix, so parallel
    test workers never hear each other's groups) and a relay bound to the test's loop."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    layers = {name: dict(value) for name, value in settings.CHANNEL_LAYERS.items()}
    config = dict(layers["default"].get("CONFIG", {}))
    if "prefix" in config:
        config["prefix"] = f"{config['prefix']}:test:{worker}:{os.getpid()}"
        layers["default"]["CONFIG"] = config
    settings.CHANNEL_LAYERS = layers
    channel_layers.backends.clear()
    relay.unbind_loop()
    availability.forget()
    yield
    relay.unbind_loop()
    channel_layers.backends.clear()
    db.close()
