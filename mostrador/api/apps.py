from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "mostrador.api"
    label = "api"
    verbose_name = "REST API"
