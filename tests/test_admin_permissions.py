"""Who may act in the admin: a staff user who may only view changes nothing.

Every action of every registered model admin is discovered from ``admin.site._registry`` (no
hand-kept list). As a staff user holding every ``view_*`` permission and nothing else, none of
them is offered (``get_actions``), and POSTing each one to its changelist, confirmation step
included, leaves every table as it was. Then the attack's targets one by one, and the custom admin
pages (needs attention, outbox health), each behind a permission.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory
from django.urls import reverse

from integration.alerts import alert_raise
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import Alert, StorefrontClient
from integration.outbox.dispatch import outbox_dispatch
from integration.storefront.clients import storefront_client_create, storefront_client_webhook_set
from tests.factories.orders import place, warehouse_items
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]

# What a confirmation step posts with its action (note forms, the stage form, the cancel form).
CONFIRMATION = {"apply": "1", "post": "yes", "note": "by a viewer", "stage": "live", "reason": "other"}


def viewer(*codenames: str) -> Any:
    """A staff user with every view_* permission (and the given extra codenames), nothing else."""
    user = get_user_model().objects.create_user("viewer", "viewer@example.com", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__startswith="view_")
        | Permission.objects.filter(codename__in=codenames)
    )
    return get_user_model().objects.get(pk=user.pk)  # no cached permissions


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (the session excepted: logging in writes it)."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model is not Session
    }


@pytest.fixture
def rows(simulator: Simulator) -> dict[str, Any]:
    """Given: a row of as many models as the platform makes easily: a client with a webhook, an
    open alert, orders placed, sent, read by the AS400 and answered (catalogue, outbox, events)."""
    client, _ = storefront_client_create(name="web", scopes=["orders:write"])
    client, _ = storefront_client_webhook_set(client=client, url="https://shop.example.com/hooks")
    alert = alert_raise(kind="test", subject="viewer", message="open")
    product = warehouse_items(1)[0]
    place(1, product)
    place(2, product)
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()
    exchange_sync()
    return {"client": client, "alert": alert}


def test_a_viewer_is_offered_no_action_and_posting_each_changes_nothing(rows: dict[str, Any]) -> None:
    user = viewer()
    http = Client()
    http.force_login(user)
    request = RequestFactory().get("/admin/")
    request.user = user
    tried = []
    for model, model_admin in admin.site._registry.items():
        # Every action the admin has, before any permission filters them out.
        names = [name for _, name, _ in model_admin._get_base_actions()]
        offered = model_admin.get_actions(request)
        assert not offered, f"{model._meta.label} offers {sorted(offered)} to a viewer"
        row = model._default_manager.order_by("pk").first()
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for name in names:
            before = snapshot()
            selected = [row.pk] if row is not None else []
            response = http.post(url, {"action": name, "_selected_action": selected, "index": "0"})
            confirmed = http.post(url, {"action": name, "_selected_action": selected, **CONFIRMATION})
            assert response.status_code in (200, 302, 403), (model._meta.label, name)
            assert confirmed.status_code in (200, 302, 403), (model._meta.label, name)
            assert snapshot() == before, f"{model._meta.label}: {name} changed something for a viewer"
            tried.append((model._meta.label, name, row is not None))
    # The attack's actions were among those tried, on a real row.
    for label, name in [
        ("integration.StorefrontClient", "rotate_tokens"),
        ("integration.StorefrontClient", "rotate_webhook_secrets"),
        ("integration.StorefrontClient", "deactivate"),
        ("integration.Alert", "resolve"),
    ]:
        assert (label, name, True) in tried


@pytest.mark.parametrize("action", ["rotate_tokens", "rotate_webhook_secrets", "deactivate"])
def test_a_viewer_cannot_rotate_or_deactivate_a_storefront_client(rows: dict[str, Any], action: str) -> None:
    client: StorefrontClient = rows["client"]
    http = Client()
    http.force_login(viewer())
    url = reverse("admin:integration_storefrontclient_changelist")

    response = http.post(url, {"action": action, "_selected_action": [client.pk]})

    assert "affiché cette seule fois" not in response.content.decode()
    after = StorefrontClient.objects.get(pk=client.pk)
    assert after.token_hash == client.token_hash
    assert after.webhook_secret == client.webhook_secret
    assert after.active
    assert after.token_rotated_at is None


def test_a_viewer_cannot_resolve_an_alert(rows: dict[str, Any]) -> None:
    alert: Alert = rows["alert"]
    http = Client()
    http.force_login(viewer())

    http.post(
        reverse("admin:integration_alert_changelist"), {"action": "resolve", "_selected_action": [alert.pk]}
    )

    assert Alert.objects.get(pk=alert.pk).resolved_at is None


def test_those_allowed_to_change_still_rotate_deactivate_and_resolve(rows: dict[str, Any]) -> None:
    client: StorefrontClient = rows["client"]
    alert: Alert = rows["alert"]
    http = Client()
    http.force_login(viewer("change_storefrontclient", "change_alert"))
    clients = reverse("admin:integration_storefrontclient_changelist")

    rotated = http.post(clients, {"action": "rotate_tokens", "_selected_action": [client.pk]}, follow=True)
    http.post(clients, {"action": "rotate_webhook_secrets", "_selected_action": [client.pk]})
    http.post(clients, {"action": "deactivate", "_selected_action": [client.pk]})
    http.post(
        reverse("admin:integration_alert_changelist"), {"action": "resolve", "_selected_action": [alert.pk]}
    )

    assert "affiché cette seule fois" in rotated.content.decode()
    after = StorefrontClient.objects.get(pk=client.pk)
    assert after.token_hash != client.token_hash
    assert after.webhook_secret != client.webhook_secret
    assert not after.active
    assert Alert.objects.get(pk=alert.pk).resolved_at is not None


# --- The admin's own pages ------------------------------------------------------------------------


def staff_with(*codenames: str) -> Client:
    user = get_user_model().objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    http = Client()
    http.force_login(user)
    return http


@pytest.mark.parametrize(
    ("url_name", "permission"), [("orders_attention", "view_order"), ("outbox_health", "view_outboxmessage")]
)
def test_the_attention_and_health_pages_need_their_permission(url_name: str, permission: str) -> None:
    url = reverse(f"admin:{url_name}")
    without = staff_with("view_alert")
    index = without.get(reverse("admin:index")).content.decode()

    assert without.get(url).status_code == 403
    assert without.post(url).status_code == 403
    assert f'href="{url}"' not in index

    get_user_model().objects.all().delete()
    allowed = staff_with(permission)
    assert allowed.get(url).status_code == 200
    assert f'href="{url}"' in allowed.get(reverse("admin:index")).content.decode()
