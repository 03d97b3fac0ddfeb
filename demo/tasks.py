"""django-q2 entry points of the demo (named by the schedules demo_data creates)."""

from __future__ import annotations

from integration.core.locks import one_at_a_time


@one_at_a_time("Demo Shopify checkout")
def demo_shopify_checkout() -> str:
    """One more demo customer buys at the Shopify simulator's checkout (every few minutes)."""
    from demo.shopify import demo_checkout, shopify_configured

    if not shopify_configured():
        return "Shopify not configured"
    return demo_checkout()
