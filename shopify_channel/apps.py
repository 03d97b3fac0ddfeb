from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopifyChannelConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shopify_channel"
    verbose_name = _("Shopify")

    def ready(self) -> None:
        # An oversold Shopify order needs attention (orders.attention tells the others).
        from orders.attention import Reason, attention_condition_register
        from shopify_channel import oversold, webhooks
        from shopify_channel.fulfilment import fulfilment_listeners_register
        from shopify_channel.signals import stock_listeners_register

        attention_condition_register(Reason.SHOPIFY_OVERSOLD, oversold.order_is_oversold)
        oversold.register()  # the order_cancel call to Shopify
        webhooks.register()  # the topics this app takes
        # First: the kept Shopify location codes are forgotten before any other listener of a
        # Shopify location's save reads them (integration.core.reference_cache).
        from integration.core.reference_cache import reference_forget_on_change
        from shopify_channel.models import ShopifyLocation
        from shopify_channel.stock import SHOPIFY_LOCATION_CODES

        reference_forget_on_change(ShopifyLocation, SHOPIFY_LOCATION_CODES)
        stock_listeners_register()  # availability moves → stock pairs to push (shopify_channel.stock)
        fulfilment_listeners_register()  # the AS400's events on Shopify orders → calls to Shopify
        # The first sync's bulk operation finished at Shopify: the run that applies it, queued.
        from integration.shopify.bulk import bulk_finish_listener_register
        from shopify_channel.catalogue import BULK_PURPOSE, catalogue_bulk_finished

        bulk_finish_listener_register(BULK_PURPOSE, catalogue_bulk_finished)
