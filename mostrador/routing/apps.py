from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "mostrador.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from mostrador.routing import listeners

        listeners.connect()
