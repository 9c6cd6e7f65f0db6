from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "mostrador.web"
    label = "web"
    verbose_name = "Agent workspace"
