from django.apps import AppConfig


class ShopifyChannelConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shopify_channel"
    verbose_name = "Shopify"
