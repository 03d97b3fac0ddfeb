"""The nightly checks, one small unit each (see ``base``): orders against WEBORD (``orders``), stock
against the full STKBAL (``stock``), items and prices (``catalogue``), our own counters
(``counters``), Shopify's catalogue, stock and orders against ours (``shopify``). Importing this package registers them all, in this order."""

from reconciliation.checks import catalogue, counters, orders, shopify, stock  # noqa: F401  (they register)
from reconciliation.checks.base import (
    CHECKS,
    Check,
    CheckUnavailable,
    Finding,
    Night,
    check_of,
    check_register,
)

__all__ = ["CHECKS", "Check", "CheckUnavailable", "Finding", "Night", "check_of", "check_register"]
