"""Websocket addresses: ``/ws/chat/<public key>/`` for the widget, ``/ws/agent/`` for agents."""

from channels.auth import AuthMiddlewareStack
from django.urls import path

from mostrador.realtime.consumers import AgentConsumer, VisitorConsumer

# The widget runs on other sites: its consumer checks the inbox's own origin allow-list. The
# agent workspace is served by the desk itself: its consumer accepts only pages of the desk's
# own origin, since the session cookie would otherwise let any page an agent visits listen in.
websocket_urlpatterns = [
    path("ws/chat/<str:key>/", VisitorConsumer.as_asgi()),
    path("ws/agent/", AuthMiddlewareStack(AgentConsumer.as_asgi())),
]
