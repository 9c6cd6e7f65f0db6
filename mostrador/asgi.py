"""ASGI entry point: HTTP through Django, websockets (``/ws/…``) through Channels."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mostrador.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_application = get_asgi_application()

from mostrador.realtime.routing import websocket_urlpatterns  # noqa: E402 - after setup

# Everything imported so far lives as long as the process: keep it out of the garbage
# collector's full passes, which otherwise pause a request for tens of milliseconds.
gc.collect()
gc.freeze()

application = ProtocolTypeRouter({
    "http": django_application,
    "websocket": URLRouter(websocket_urlpatterns),
})
