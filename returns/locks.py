"""The row locks of returns. They are taken after the order's (``orders.locks``, whose order rules):
the order first, then its messages, then the return lines."""

from __future__ import annotations

from django.db.models import QuerySet

from returns.models import ReturnLine


def return_lines_locked() -> QuerySet[ReturnLine]:
    return ReturnLine.objects.select_for_update()
