from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "mostrador.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from mostrador.knowledge import listeners

        listeners.connect()
