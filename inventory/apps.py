from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inventory"
    verbose_name = _("Catalogue and stock")

    def ready(self) -> None:
        # ITMMST and STKBAL are applied by the catalogue (see integration.as400.appliers).
        from inventory.as400_exports import register

        register()
        # The reservations' figures of /metrics (see integration.monitoring.metrics).
        from integration.monitoring.metrics import metrics_register
        from inventory.metrics import reservations_metrics

        metrics_register("reservations", reservations_metrics)

        # The selling switch and the pilot categories on the admin's home page.
        from inventory import console

        console.register()
