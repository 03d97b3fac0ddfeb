"""The admin as a whole: a world with rows in every table it lists, and the users who look at it.

``world`` makes at least one row for every model registered in the admin, through the services
where there is one (a storefront client with a webhook, an order placed and sent, a return, an
alert, a rollout change), as the dispatcher or the sync would leave them where there is not (a
dead message, an AS400 event that did not apply, a failed task). The walks over
``admin.site._registry`` check that every changelist has a row to act on, so a model registered
later without a row here fails them loudly instead of being walked over empty.

``viewer`` is a staff user with the view permission of every model and nothing else. ``World``,
what ``world`` gives, is in tests/factories/admin.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.db import models, router
from django.db.models import F
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ, Task
from django_q.tasks import async_task

from integration.alerts import alert_raise
from integration.models import FileRun, OutboundFile, OutboxMessage, WebhookDelivery
from integration.outbox.dispatch import outbox_dispatch
from integration.storefront.clients import storefront_client_create, storefront_client_webhook_set
from integration.storefront.events import event_emit
from inventory.models import SafetyStockOverride
from inventory.reservations import LineRequest, reservation_create
from inventory.rollout import category_set_stage, selling_pause, selling_resume
from orders.models import As400Event, Order, OrderLine
from orders.services import Customer, LineInput, OrderInput, order_place
from returns.services import ReturnLineInput, return_create
from tests.factories.admin import World
from tests.factories.api import ALL_SCOPES
from tests.factories.catalogue import Catalogue

CLIENT = "shop"


@pytest.fixture
def world(db: None, exchange_dir: Path) -> World:
    """Given: a row in every table the admin lists (see the module's docstring)."""
    catalogue = Catalogue()
    product = catalogue.product("A", stock={900: 20, 1: 5})
    SafetyStockOverride.objects.create(product=product, location_id=1, quantity=1)
    category_set_stage(category=catalogue.off, stage="pilot", actor_name="ops", note="pilot in two stores")
    selling_pause(reason="inventory count", actor_name="ops")
    selling_resume(reason="count done", actor_name="ops")
    Group.objects.create(name="support")

    client, _ = storefront_client_create(name=CLIENT, scopes=ALL_SCOPES, can_see_pilot=False, rate_limit=600)
    client, _ = storefront_client_webhook_set(client=client, url="http://127.0.0.1:9/hooks")
    reservation_create(lines=[LineRequest("A", 1)], client=CLIENT)  # a checkout still open
    reservation = reservation_create(lines=[LineRequest("A", 2)], client=CLIENT)
    order, _ = order_place(
        data=OrderInput(
            order_number="WEB-000001", reservation_id=str(reservation.pk), delivery="home",
            customer=Customer(last_name="Lefèvre", first_name="Zoë", city="Lyon"),
            lines=[LineInput("A", 2, product.price)],
        ),
        client=CLIENT,
    )  # fmt: skip
    outbox_dispatch(now=timezone.now())  # ORDIMP_000001 in IN/: an outbound file, the message sent
    assert OutboundFile.objects.exists()
    Order.objects.filter(pk=order.pk).update(status="shipped", as400_order_number="A000001")
    OrderLine.objects.filter(order=order).update(picked=F("quantity"), shipped=F("quantity"))
    ret, _ = return_create(
        client=CLIENT, order_number=order.order_number, lines=[ReturnLineInput(1, 1)], reason="DEFE"
    )
    OutboxMessage.objects.filter(subject=order.pk, kind="ORDIMP").update(
        state=OutboxMessage.State.DEAD, attempts=8, last_error="IN/ is not writable"
    )
    event_emit(order=order, type="order.shipped", data={"tracking": "6A123"})
    WebhookDelivery.objects.update(state=WebhookDelivery.State.DEAD, attempts=12, last_error="timeout")
    As400Event.objects.create(
        file="ORDSTS", source="ORDSTS_000001", record=1, key="k" * 64, kind="unknown", code="Z",
        order_number=order.order_number, line_number=1, quantity=1, outcome="rejected", order=order,
        note="unknown event code Z",
    )  # fmt: skip
    FileRun.objects.create(file="STKBAL", seq=1, kind="F", outcome="applied", record_count=3)
    alert_raise(kind="file_quarantined", subject="STKBAL_000002", message="control record mismatch")
    now = timezone.now()
    for success in (True, False):
        Task.objects.create(
            id=f"{success:d}" * 32, name=f"task-{success}", func="math.floor", args=(1.5,), kwargs={},
            started=now, stopped=now, success=success, result=1 if success else "ZeroDivisionError",
        )  # fmt: skip
    if OrmQ in admin.site._registry:  # the database broker's queue: one task waiting
        async_task("math.floor", 1.5)
    return World(client=client, order=order, ret=ret)


def staff_user(username: str, *codenames: str) -> Any:
    """A staff user (not a superuser) with exactly these permissions ("app_label.codename")."""
    user = get_user_model().objects.create_user(username, password="pw-staff-123", is_staff=True)
    for name in codenames:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return get_user_model().objects.get(pk=user.pk)  # fresh: no permission cache


def view_permissions() -> list[str]:
    return [
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(codename__startswith="view_").select_related("content_type")
    ]


@pytest.fixture
def viewer(db: None) -> Any:
    """A staff user who may view every model and do nothing else."""
    return staff_user("viewer", *view_permissions())


@pytest.fixture
def viewer_client(viewer: Any) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


@pytest.fixture
def superuser_client(db: None) -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def database_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of ours and of the libraries' (sessions aside), to tell that nothing changed."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy or model is Session:
            continue
        manager: models.Manager[Any] = model._base_manager
        queryset = manager.using(router.db_for_read(model)).order_by("pk")
        rows[model._meta.label] = [tuple(map(str, row)) for row in queryset.values_list()]
    return rows
