from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "mostrador.conversations"
    label = "conversations"
    verbose_name = "Conversations"
