"""Mounted at the root: the script tag's address (``/widget.js``), the hosted chat page
(``/chat/<key>/``) and the widget's endpoints under ``/channels/webchat/``."""

from django.urls import path

from mostrador.channels.webchat import views

app_name = "webchat"

urlpatterns = [
    path("widget.js", views.widget_view, name="widget"),
    path("chat/<str:key>/", views.hosted_view, name="hosted"),
    path("channels/webchat/files/<str:signed>/<str:name>", views.attachment_view,
         name="attachment"),
    path("channels/webchat/<str:key>/config", views.config_view, name="config"),
    path("channels/webchat/<str:key>/messages", views.messages_view, name="messages"),
    path("channels/webchat/<str:key>/transcript", views.transcript_view, name="transcript"),
    path("channels/webchat/<str:key>/magic-link", views.magic_link_view, name="magic_link"),
    path("channels/webchat/<str:key>/continue", views.continue_view, name="continue"),
]
