from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reconciliation"
    verbose_name = _("AS400 reconciliation")

    def ready(self) -> None:
        # WEBORD, and what a full STKBAL replaces, are kept by reconciliation (see
        # integration.as400.appliers); the checks register themselves on import.
        from reconciliation import as400_exports, checks  # noqa: F401

        as400_exports.register()

        # Open discrepancies on the admin's home page.
        from reconciliation import console

        console.register()
