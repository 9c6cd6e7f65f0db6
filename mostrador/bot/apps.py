from django.apps import AppConfig


class BotConfig(AppConfig):
    name = "mostrador.bot"
    label = "bot"
    verbose_name = "Answer bot"

    def ready(self) -> None:
        from mostrador.bot import listeners

        listeners.connect()
