"""What the admin's console tests build: members of the roles' groups (created by the migrations),
and orders that need staff, made as the platform leaves them (placed through the services, sent
by the dispatcher, read by the simulated AS400; then an event it could not apply, or a message
whose attempts ran out)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import OutboxMessage
from integration.outbox.dispatch import outbox_dispatch
from orders.models import As400Event, Order
from tests.factories.orders import place, warehouse_items

PASSWORD = "pw-console-123"
BUSINESS, OPERATIONS, SUPPORT = "Équipe commerce", "Exploitation", "Support"


def roles_ensure() -> None:
    """The roles' groups as the migrations make them, made again by the migrations' own functions
    where a transactional test's flush emptied the table (``serialized_rollback`` does not restore
    them when other transactional tests share the worker)."""
    if Group.objects.filter(name__in=[BUSINESS, OPERATIONS, SUPPORT]).count() == 3:
        return
    # The migrations set and clear each app's models_module (a migration state has none): the real
    # registry's are put back, or a later flush would create no permissions for those apps.
    kept = {config.label: config.models_module for config in django_apps.get_app_configs()}
    try:
        for name, function in (("0003_staff_groups", "create_groups"), ("0005_roles", "create_roles")):
            getattr(import_module(f"reconciliation.migrations.{name}"), function)(django_apps, None)
    finally:
        for config in django_apps.get_app_configs():
            config.models_module = kept[config.label]


def member(username: str, group: str) -> Any:
    """A staff user whose only permissions are those of ``group``; password :data:`PASSWORD`."""
    roles_ensure()
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def orders_needing_staff(simulator: Simulator) -> tuple[Order, OutboxMessage]:
    """Two orders: the first accepted by the AS400, then an ORDSTS event of it that could not be
    applied (rejected: an unknown event code); the second whose ORDIMP died before it was written
    (its attempts exhausted: the folder was not writable), as the dispatcher leaves it."""
    product = warehouse_items(1)[0]
    place(1, product)
    place(2, product)
    first, second = Order.objects.order_by("pk")
    OutboxMessage.objects.filter(subject=second.pk).update(
        state=OutboxMessage.State.DEAD, attempts=8, last_error="IN/ is not writable"
    )
    outbox_dispatch(now=timezone.now())
    simulator.import_now()
    exchange_sync()
    As400Event.objects.create(
        file="ORDSTS", source="ORDSTS_000009", record=1, key="k" * 64, kind="unknown", code="Z",
        order_number=first.order_number, line_number=1, quantity=1, outcome="rejected", order=first,
        note="unknown event code Z",
    )  # fmt: skip
    return first, OutboxMessage.objects.get(subject=second.pk)
