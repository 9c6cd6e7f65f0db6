"""The agent workspace. Every area is a folder with its own urls, views and templates; names
live in the ``web`` namespace (``web:inbox``, ``web:conversation``…)."""

from django.urls import include, path

from mostrador.web import views

app_name = "web"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("account/", include("mostrador.web.account.urls")),
    path("c/", include("mostrador.web.conversation.urls")),
    path("customers/", include("mostrador.web.customers.urls")),
    path("kb/", include("mostrador.web.knowledge.urls")),
    path("settings/", include("mostrador.web.settings_screens.urls")),
    path("", include("mostrador.web.inbox.urls")),
]
