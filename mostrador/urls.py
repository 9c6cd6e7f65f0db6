from django.contrib import admin
from django.urls import include, path

from mostrador.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("help/", include("mostrador.portal.urls")),
    path("", include("mostrador.channels.webchat.urls")),
    path("", include("mostrador.web.urls")),
]
