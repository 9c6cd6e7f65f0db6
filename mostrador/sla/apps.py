from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "mostrador.sla"
    label = "sla"
    verbose_name = "SLAs"

    def ready(self) -> None:
        from mostrador.sla import listeners

        listeners.connect()
