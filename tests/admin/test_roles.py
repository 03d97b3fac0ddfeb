"""The three roles, as the groups the migrations create: what each may do in the admin, and not.

Each test logs in a member of one group (no permission of their own) and asks the pages and
actions with the test client: the HTTP status, and what changed in the database (or did not).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from integration.models import OutboxMessage
from inventory.models import Category, SellingSwitch
from orders.models import Order
from tests.factories.admin import World
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]

BUSINESS, OPERATIONS, SUPPORT = "Équipe commerce", "Exploitation", "Support"
SEEN_APPS = {"integration", "shopify", "inventory", "orders", "returns", "shopify_channel", "reconciliation"}


def member(group: str) -> Client:
    user = get_user_model().objects.create_user("member", password="pw-staff-123", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    http = Client()
    http.force_login(user)
    return http


def resolve_attention(http: Client, order: Order) -> Any:
    return http.post(
        reverse("admin:orders_order_changelist"),
        {
            "action": "resolve_attention",
            "_selected_action": [order.pk],
            "apply": "1",
            "note": "called the customer",
        },
    )


def retry_dead(http: Client) -> Any:
    dead = OutboxMessage.objects.get(state="dead")
    return http.post(
        reverse("admin:integration_outboxmessage_changelist"),
        {"action": "retry", "_selected_action": [dead.pk]},
    )


def set_stage(http: Client, category: Category, stage: str) -> Any:
    return http.post(
        reverse("admin:inventory_category_changelist"),
        {
            "action": "set_stage",
            "_selected_action": [category.pk],
            "apply": "1",
            "stage": stage,
            "note": "go",
        },
    )


def pause_selling(http: Client) -> Any:
    return http.post(
        reverse("admin:inventory_sellingswitch_changelist"), {"op": "pause", "reason": "stock count"}
    )


OPERATIONS_PAGES = [
    "admin:as400_simulator",
    "admin:inventory_itemmapping_import",
    "admin:inventory_safetystockoverride_import",
    "admin:reconciliation_threshold_add",
]


@pytest.fixture
def simulator_page(settings: Any, tmp_path: Any) -> None:
    settings.AS400_SIMULATOR_ADMIN = True
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"


def test_business_staff_resolve_orders_and_move_the_rollout_but_touch_no_operations_page(
    world: World, simulator_page: None
) -> None:
    http = member(BUSINESS)
    pilot = Category.objects.filter(rollout_stage="pilot").first()
    assert pilot is not None

    resolved = resolve_attention(http, world.order)
    moved = set_stage(http, pilot, "live")
    retried = retry_dead(http)
    paused = pause_selling(http)

    assert resolved.status_code == 302
    assert Order.objects.get(pk=world.order.pk).attention_note == "called the customer"
    assert moved.status_code == 302
    assert Category.objects.get(pk=pilot.pk).rollout_stage == "live"
    assert retried.status_code in (200, 302)
    assert OutboxMessage.objects.filter(state="dead").count() == 1  # not theirs to retry
    assert paused.status_code == 403
    assert SellingSwitch.objects.get().selling_enabled
    for name in OPERATIONS_PAGES:
        assert http.get(reverse(name)).status_code == 403, name
    assert http.get(reverse("admin:orders_order_changelist") + "?attention=any").status_code == 200
    assert http.get(reverse("admin:reconciliation_discrepancy_changelist")).status_code == 200


def test_operations_retry_messages_pause_selling_and_open_their_pages_but_resolve_no_order(
    world: World, simulator_page: None
) -> None:
    http = member(OPERATIONS)
    pilot = Category.objects.filter(rollout_stage="pilot").first()
    assert pilot is not None

    retried = retry_dead(http)
    paused = pause_selling(http)
    resolved = resolve_attention(http, world.order)
    moved = set_stage(http, pilot, "live")

    assert retried.status_code == 302
    assert OutboxMessage.objects.filter(state="dead").count() == 0
    assert paused.status_code == 302
    switch = SellingSwitch.objects.get()
    assert (switch.selling_enabled, switch.reason) == (False, "stock count")
    assert resolved.status_code in (200, 302)
    assert Order.objects.get(pk=world.order.pk).attention_note == ""
    assert moved.status_code in (200, 302)
    assert Category.objects.get(pk=pilot.pk).rollout_stage == "pilot"
    for name in OPERATIONS_PAGES:
        assert http.get(reverse(name)).status_code == 200, name


def test_support_sees_every_list_and_changes_nothing(world: World, simulator_page: None) -> None:
    http = member(SUPPORT)
    pilot = Category.objects.filter(rollout_stage="pilot").first()
    assert pilot is not None
    lists = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label in SEEN_APPS
    ]

    statuses = {url: http.get(url).status_code for url in lists}
    resolve_attention(http, world.order)
    set_stage(http, pilot, "live")
    retry_dead(http)

    assert set(statuses.values()) == {200}, statuses
    assert pause_selling(http).status_code == 403
    assert Order.objects.get(pk=world.order.pk).attention_note == ""
    assert Category.objects.get(pk=pilot.pk).rollout_stage == "pilot"
    assert OutboxMessage.objects.filter(state="dead").count() == 1
    assert SellingSwitch.objects.get().selling_enabled
    for name in OPERATIONS_PAGES:
        assert http.get(reverse(name)).status_code == 403, name
    assert http.get(reverse("admin:orders_order_change", args=[world.order.pk])).status_code == 200
    assert http.post(reverse("admin:orders_order_change", args=[world.order.pk]), {}).status_code == 403


def test_support_holds_view_permissions_only() -> None:
    support = Group.objects.get(name=SUPPORT)
    codenames = set(support.permissions.values_list("codename", flat=True))

    assert codenames
    assert {c for c in codenames if not c.startswith("view_")} == set()
