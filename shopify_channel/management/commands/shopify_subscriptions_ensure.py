"""``manage.py shopify_subscriptions_ensure``: the connector's webhook subscriptions at Shopify, checked.

Run at start by ``bin/run`` and by the deploy (and every hour by the task of the same name): every
topic the connector takes is subscribed at SHOPIFY_WEBHOOK_URL; the missing ones are (re-)created,
ours pointing elsewhere deleted (shopify_channel.poll). Exits 1 when some could not be put in place.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shopify_channel.poll import shopify_subscriptions_ensure


class Command(BaseCommand):
    help = "Check Shopify's webhook subscriptions and (re-)create the missing ones."

    def handle(self, *args: Any, **options: Any) -> None:
        report = shopify_subscriptions_ensure(now=timezone.now())
        if report.skipped:
            self.stdout.write(f"Shopify subscriptions not checked: {report.skipped}")
            return
        self.stdout.write(
            f"Shopify subscriptions: {len(report.kept)} in place, {len(report.created)} created"
            + (f" ({', '.join(report.created)})" if report.created else "")
            + (f", {len(report.deleted)} pointing elsewhere deleted" if report.deleted else "")
        )
        if report.errors:
            raise CommandError("; ".join(report.errors))
