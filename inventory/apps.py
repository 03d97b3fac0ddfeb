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

        # The switch and the selling locations are read on every checkout and kept a moment per
        # process; any save or delete of theirs forgets them (integration.core.reference_cache).
        from integration.core.reference_cache import reference_forget_on_change
        from inventory.models import Location, SellingSwitch
        from inventory.selectors import SELLING_ENABLED, SELLING_LOCATIONS

        reference_forget_on_change(SellingSwitch, SELLING_ENABLED)
        reference_forget_on_change(Location, SELLING_LOCATIONS)
        # The selling switch and the pilot categories on the admin's home page.
        from inventory import console

        console.register()
