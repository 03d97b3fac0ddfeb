"""The connector's admin pages (in French): the inbox with replay, the calls with retry and cancel,
the connection's state; every action through its confirmation page, and only for those allowed."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from integration.shopify.calls import CallRefused, call_kind_register, shopify_call_queue, shopify_calls_send
from integration.shopify.client import ShopifyClient
from integration.shopify.models import ConnectionState, ShopifyCall, WebhookEvent
from integration.shopify.webhooks import WebhookMeta, webhook_event_apply, webhook_topic_register
from tests.factories.shopify_connector import SHOP, deliver
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]


def logged_in(client: Client, *codenames: str) -> Client:
    user = get_user_model().objects.create_user("agent", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="shopify", codename__in=codenames)
    )
    client.force_login(user)
    return client


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def a_failed_event(client: Client) -> WebhookEvent:
    def handler(payload: dict[str, Any], meta: WebhookMeta) -> None:
        raise ValueError("unknown SKU ABC")

    webhook_topic_register("orders/create", handler)
    deliver(client, "orders/create", "evt-1", {"id": 1, "name": "#1001"})
    event = WebhookEvent.objects.get()
    webhook_event_apply(event_id=event.pk)
    return event


def test_the_inbox_lists_events_and_shows_the_body(client: Client) -> None:
    event = a_failed_event(client)
    staff = logged_in(Client(), "view_webhookevent")

    listing = staff.get(reverse("admin:shopify_webhookevent_changelist"))
    page = staff.get(reverse("admin:shopify_webhookevent_change", args=[event.pk]))

    assert listing.status_code == 200
    assert "Webhooks reçus de Shopify" in listing.content.decode()
    assert "unknown SKU ABC" in listing.content.decode()
    assert page.status_code == 200
    assert "#1001" in page.content.decode()


def test_staff_replay_a_failed_event_after_confirming(client: Client) -> None:
    # given a failed event, and a handler that now takes it
    event = a_failed_event(client)
    seen: list[str] = []
    webhook_topic_register("orders/create", lambda payload, meta: seen.append(meta.event_id))
    staff = logged_in(Client(), "view_webhookevent", "change_webhookevent")
    url = reverse("admin:shopify_webhookevent_changelist")
    selected = {"action": "replay", "_selected_action": [event.pk]}

    # when staff choose « Rejouer », then confirm
    confirm = staff.post(url, selected)
    done = staff.post(url, {**selected, "apply": "1"}, follow=True)

    # then the page said what would happen and nothing happened before the confirmation; then once
    assert confirm.status_code == 200
    assert "déjà appliqué est refusé" in confirm.content.decode()
    assert messages_of(done) == ["orders/create evt-1 rejoué : appliqué."]
    assert seen == ["evt-1"]

    # and replaying it again is refused
    again = staff.post(url, {**selected, "apply": "1"}, follow=True)
    assert messages_of(again) == ["Refusé : l'évènement evt-1 (orders/create) est déjà appliqué."]
    assert seen == ["evt-1"]


def test_replay_is_not_offered_to_those_who_may_only_view(client: Client) -> None:
    event = a_failed_event(client)
    staff = logged_in(Client(), "view_webhookevent")
    url = reverse("admin:shopify_webhookevent_changelist")

    staff.post(url, {"action": "replay", "_selected_action": [event.pk], "apply": "1"})

    assert WebhookEvent.objects.get().state == "failed"


def test_staff_retry_a_dead_call_and_cancel_another_with_a_note() -> None:
    # given two dead calls
    def refuse(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
        raise CallRefused("the fulfillment order is closed")

    call_kind_register("fulfillment_create", refuse)
    first = shopify_call_queue(kind="fulfillment_create", subject="SHP1001", payload={}, now=TUESDAY)
    second = shopify_call_queue(kind="fulfillment_create", subject="SHP1002", payload={}, now=TUESDAY)
    shopify_calls_send()
    staff = logged_in(Client(), "view_shopifycall", "change_shopifycall")
    url = reverse("admin:shopify_shopifycall_changelist")

    # when staff retry the first and cancel the second with a note
    confirm = staff.post(url, {"action": "cancel", "_selected_action": [second.pk]})
    retried = staff.post(url, {"action": "retry", "_selected_action": [first.pk], "apply": "1"}, follow=True)
    cancelled = staff.post(
        url,
        {"action": "cancel", "_selected_action": [second.pk], "apply": "1", "note": "fait à la main"},
        follow=True,
    )

    # then the first is pending again, the second cancelled with the note, each said
    assert "Annuler des appels à Shopify" in confirm.content.decode()
    assert messages_of(retried) == [
        f"L'appel #{first.pk} (fulfillment_create SHP1001) est de nouveau en attente et part sous peu."
    ]
    assert messages_of(cancelled) == [
        f"L'appel #{second.pk} (fulfillment_create SHP1002) est annulé : il ne partira pas."
    ]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("pending", "cancelled")
    assert second.last_error == "cancelled on 2026-11-24 10:00: fait à la main"  # stored in English
    # and each call's last error is read in French: the confirmation's rows, the list, the call's page
    assert "Abandonné, 1 tentative(s) — refusé : the fulfillment order is closed" in confirm.content.decode()
    listed = staff.get(url).content.decode()
    assert "annulé le 2026-11-24 10:00 : fait à la main" in listed
    page = staff.get(reverse("admin:shopify_shopifycall_change", args=[first.pk]))
    assert page.status_code == 200
    assert "refusé : the fulfillment order is closed" in page.content.decode()


def test_the_connection_state_is_shown_read_only() -> None:
    state = ConnectionState.objects.create(
        shop=SHOP, api_version="2026-10", last_call_at=TUESDAY, bucket_available=1960.0, bucket_maximum=2000.0
    )
    staff = logged_in(Client(), "view_connectionstate", "change_connectionstate", "add_connectionstate")

    listing = staff.get(reverse("admin:shopify_connectionstate_changelist"))
    change = staff.post(reverse("admin:shopify_connectionstate_change", args=[state.pk]), {"shop": "other"})

    assert "1960 / 2000" in listing.content.decode()
    assert change.status_code == 403
    assert staff.get(reverse("admin:shopify_connectionstate_add")).status_code == 403
