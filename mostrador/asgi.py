"""ASGI entry point: HTTP through Django; websockets join here as channels add them."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mostrador.settings")

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

django_application = get_asgi_application()

# Everything imported so far lives as long as the process: keep it out of the garbage
# collector's full passes, which otherwise pause a request for tens of milliseconds.
gc.collect()
gc.freeze()

application = ProtocolTypeRouter({"http": django_application})
