from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "mostrador.channels.email"
    label = "channel_email"
    verbose_name = "E-mail channel"

    def ready(self) -> None:
        from mostrador.channels import registry
        from mostrador.channels.email.adapter import EmailAdapter

        registry.register(EmailAdapter())

        from django.db.models.signals import post_delete, post_save

        from mostrador.channels.email.adapter import forget_inboxes
        from mostrador.conversations.models import Inbox

        def inboxes_changed(**kwargs) -> None:
            forget_inboxes()

        post_save.connect(inboxes_changed, sender=Inbox, weak=False,
                          dispatch_uid="email-inbox-cache")
        post_delete.connect(inboxes_changed, sender=Inbox, weak=False,
                            dispatch_uid="email-inbox-cache-delete")
