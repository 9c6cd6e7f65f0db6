"""ASGI entry point: HTTP through Django; websockets join here as channels add them."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mostrador.settings")

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

django_application = get_asgi_application()

application = ProtocolTypeRouter({"http": django_application})
