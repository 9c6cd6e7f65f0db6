from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "mostrador.channels.email"
    label = "channel_email"
    verbose_name = "E-mail channel"

    def ready(self) -> None:
        from mostrador.channels import registry
        from mostrador.channels.email.adapter import EmailAdapter

        registry.register(EmailAdapter())
