from django.apps import AppConfig


class WebchatChannelConfig(AppConfig):
    name = "mostrador.channels.webchat"
    label = "channel_webchat"
    verbose_name = "Live chat channel"

    def ready(self) -> None:
        from mostrador.channels import registry
        from mostrador.channels.webchat.adapter import WebchatAdapter

        registry.register(WebchatAdapter())
