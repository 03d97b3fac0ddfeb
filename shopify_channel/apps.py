from django.apps import AppConfig


class ShopifyChannelConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shopify_channel"
    verbose_name = "Shopify"

    def ready(self) -> None:
        from shopify_channel.signals import stock_listeners_register

        stock_listeners_register()
        try:
            from shopify_channel.webhooks import catalogue_stock_webhooks_register
        except ImportError:  # the connector's intake is not there yet (merged from wt-client)
            return
        try:
            catalogue_stock_webhooks_register()
        except ImportError:
            return
