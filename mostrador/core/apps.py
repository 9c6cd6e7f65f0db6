from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mostrador.core"
    label = "core"
    verbose_name = "Mostrador"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Every app's tasks.py registers its tasks with the queue before anyone enqueues.
        autodiscover_modules("tasks")
