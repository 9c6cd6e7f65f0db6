from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "mostrador.automation"
    label = "automation"
    verbose_name = "Automation"

    def ready(self) -> None:
        from mostrador.automation import listeners

        listeners.connect()
