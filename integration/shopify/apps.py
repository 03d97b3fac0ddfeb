from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopifyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integration.shopify"
    label = "shopify"
    verbose_name = _("Shopify (connector)")

    def ready(self) -> None:
        from integration.shopify import bulk

        bulk.register()  # bulk_operations/finish: the connector's own topic
