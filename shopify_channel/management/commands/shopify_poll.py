"""``manage.py shopify_poll``: apply the Shopify orders updated since the poll's cursor, once.

What the schedule "Shopify orders poll" does every 5 minutes (shopify_channel.poll).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from shopify_channel.poll import shopify_orders_poll


class Command(BaseCommand):
    help = "Apply the Shopify orders updated since the last poll (what webhooks missed)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = shopify_orders_poll(now=timezone.now())
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
