from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "mostrador.customers"
    label = "customers"
    verbose_name = "Customers"
