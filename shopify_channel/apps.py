from django.apps import AppConfig


class ShopifyChannelConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shopify_channel"
    verbose_name = "Shopify"

    def ready(self) -> None:
        # An oversold Shopify order needs attention (orders.attention tells the others).
        from orders.attention import Reason, attention_condition_register
        from shopify_channel import oversold, webhooks

        attention_condition_register(Reason.SHOPIFY_OVERSOLD, oversold.order_is_oversold)
        oversold.register()  # the order_cancel call to Shopify
        webhooks.register()  # the topics this app takes
