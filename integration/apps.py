from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integration"

    def ready(self) -> None:
        # Dead messages, quarantined files, late extracts... on the admin's home page.
        from integration.monitoring import home

        home.register()
