from django.apps import AppConfig


class PartiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "parties"

    def ready(self) -> None:
        from parties import queue, signals  # noqa: F401 -- connects the receivers
