from django.apps import AppConfig


class InventoryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inventory"

    def ready(self) -> None:
        # ITMMST and STKBAL are applied by the catalogue (see integration.as400.appliers).
        from inventory.as400_exports import register

        register()

        # The selling switch and the pilot categories on the admin's home page.
        from inventory import console

        console.register()
