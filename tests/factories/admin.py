"""What the admin's ``world`` fixture (tests/admin/conftest.py) gives a test: ``World``, the rows of
it a test looks up again (the storefront client, the order placed and sent, its return)."""

from __future__ import annotations

from dataclasses import dataclass

from integration.models import StorefrontClient
from orders.models import Order
from returns.models import Return


@dataclass
class World:
    client: StorefrontClient
    order: Order
    ret: Return
