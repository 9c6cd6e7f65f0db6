from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "mostrador.realtime"
    label = "realtime"
    verbose_name = "Real time"

    def ready(self) -> None:
        from mostrador.core.publish import subscribe_batch
        from mostrador.realtime import relay

        subscribe_batch(relay.relay_batch)
