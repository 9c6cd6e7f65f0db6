from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "mostrador.portal"
    label = "portal"
    verbose_name = "Help center"
