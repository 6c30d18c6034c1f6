from django.apps import AppConfig


class CompiledQueriesConfig(AppConfig):
    """Only a start-up check: the layer runs on a Django it was tested with."""

    name = "compiled_queries"

    def ready(self) -> None:
        from compiled_queries.prepared import check_django_version

        check_django_version()
