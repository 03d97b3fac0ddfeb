from django.apps import AppConfig


class ShopifyChannelConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shopify_channel"
    verbose_name = "Shopify"

    def ready(self) -> None:
        from shopify_channel.fulfilment import fulfilment_listeners_register
        from shopify_channel.signals import stock_listeners_register
        from shopify_channel.webhooks import catalogue_webhooks_register

        stock_listeners_register()  # availability moves → stock pairs to push (shopify_channel.stock)
        catalogue_webhooks_register()  # products/update → storefront content, ownership violations
        fulfilment_listeners_register()  # the AS400's events on Shopify orders → calls to Shopify
