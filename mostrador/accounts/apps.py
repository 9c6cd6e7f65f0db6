from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mostrador.accounts"
    label = "accounts"
    verbose_name = "Accounts"
