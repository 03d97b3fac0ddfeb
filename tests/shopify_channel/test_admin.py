"""The oversold decisions from the admin, in French: a note asked first, then the decision applied."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integration.models import OutboxMessage
from inventory.models import StockLevel
from shopify_channel.models import ShopifyOrder
from shopify_channel.orders import shopify_order_apply
from tests.factories.shopify import order_payload, shopify_shop

NOW = timezone.now().replace(microsecond=0)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]
LINKS = reverse("admin:shopify_channel_shopifyorder_changelist")


def post_action(staff: Client, action: str, pks: list[int], **extra: str) -> Any:
    return staff.post(LINKS, {"action": action, "_selected_action": pks, **extra}, follow=True)


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(get_user_model().objects.create_superuser("ops", "ops@example.com", "pw"))
    return client


def oversold() -> ShopifyOrder:
    shopify_shop()
    StockLevel.objects.filter(product__mapping__sku="A").update(on_hand=0)
    return shopify_order_apply(order_payload(lines=[("A", 1)], updated_at=NOW), now=NOW)


def test_send_anyway_asks_a_note_then_queues_the_ordimp(staff: Client) -> None:
    link = oversold()

    page = post_action(staff, "send_anyway", [link.pk])
    done = post_action(staff, "send_anyway", [link.pk], apply="1", note="arrivage demain")

    assert "Envoyer quand même" in page.content.decode()
    assert [str(m) for m in get_messages(done.wsgi_request)] == [
        "#1001 : envoyée à l'AS400 quand même (ORDIMP en file)."
    ]
    assert OutboxMessage.objects.filter(subject=link.order.pk, kind="ORDIMP").count() == 1


def test_cancel_in_shopify_on_an_order_decided_already_is_refused_with_the_reason(staff: Client) -> None:
    link = oversold()
    post_action(staff, "send_anyway", [link.pk], apply="1", note="arrivage demain")

    refused = post_action(staff, "cancel_in_shopify", [link.pk], apply="1", note="finalement non")

    assert "a déjà été décidée" in " ".join(str(m) for m in get_messages(refused.wsgi_request))
    link.refresh_from_db()
    assert link.oversold_resolution == "sent_anyway"
