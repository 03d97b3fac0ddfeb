"""Storefront clients: bearer tokens shown once and stored hashed, scopes, rate limits."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from integration.models import StorefrontClient
from integration.storefront.clients import (
    storefront_client_create,
    storefront_client_deactivate,
    storefront_client_rotate,
)
from tests.factories.api import MakeApi, error_of
from tests.factories.catalogue import Catalogue

PRODUCTS = "/api/v1/products/"


def test_without_a_token_the_answer_is_401_with_a_bearer_challenge(db: None) -> None:
    response = APIClient().get(PRODUCTS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    ["Bearer nope", "Bearer ", "Bearer a b", "bearer " + "x" * 500, "Bearer \u00e9t\u00e9"],
    ids=["unknown", "empty", "two words", "long", "latin-1"],
)
def test_an_unknown_or_malformed_token_is_401_invalid_token(db: None, header: str) -> None:
    response = APIClient().get(PRODUCTS, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] in {"invalid_token", "not_authenticated"}


def test_another_scheme_is_not_authenticated(db: None) -> None:
    response = APIClient().get(PRODUCTS, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_a_deactivated_client_is_refused(catalogue: Catalogue, make_api: MakeApi) -> None:
    api = make_api()
    assert api.get(PRODUCTS).status_code == 200

    storefront_client_deactivate(client=api.storefront_client)  # type: ignore[attr-defined]
    response = api.get(PRODUCTS)

    assert response.status_code == 401
    assert error_of(response)["code"] == "client_inactive"


def test_a_client_without_the_scope_gets_403_insufficient_scope(
    catalogue: Catalogue, make_api: MakeApi
) -> None:
    api = make_api(scopes=["availability:read"])

    response = api.get(PRODUCTS)

    assert response.status_code == 403
    assert error_of(response) == {
        "code": "insufficient_scope",
        "message": "this endpoint needs the scope catalog:read",
        "detail": None,
    }
    assert api.get("/api/v1/availability/?sku=A").status_code == 200


def test_the_token_is_stored_as_its_sha256_with_a_prefix_only(db: None) -> None:
    client, token = storefront_client_create(name="next", scopes=["catalog:read"])

    stored = StorefrontClient.objects.get(pk=client.pk)
    assert len(token) >= 43
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.token_prefix == token[:8]
    assert token not in str(StorefrontClient.objects.filter(pk=client.pk).values().get())


def test_rotating_a_token_refuses_the_old_one_and_accepts_the_new(
    catalogue: Catalogue, make_api: MakeApi
) -> None:
    api = make_api()
    old = api.token  # type: ignore[attr-defined]

    _, new = storefront_client_rotate(client=api.storefront_client)  # type: ignore[attr-defined]

    assert error_of(APIClient().get(PRODUCTS, HTTP_AUTHORIZATION=f"Bearer {old}"))["code"] == "invalid_token"
    assert APIClient().get(PRODUCTS, HTTP_AUTHORIZATION=f"Bearer {new}").status_code == 200


def test_a_request_records_when_the_client_was_last_seen(catalogue: Catalogue, make_api: MakeApi) -> None:
    api = make_api()

    api.get(PRODUCTS)

    assert StorefrontClient.objects.get(pk=api.storefront_client.pk).last_used_at is not None  # type: ignore[attr-defined]


def test_over_its_rate_a_client_gets_429_with_retry_after(catalogue: Catalogue, make_api: MakeApi) -> None:
    slow, other = make_api(rate=3), make_api(rate=3)

    statuses = [slow.get(PRODUCTS).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = slow.get(PRODUCTS)
    assert error_of(response)["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert other.get(PRODUCTS).status_code == 200  # counted per client


# --- The command and the admin ----------------------------------------------------------------


def test_the_command_creates_a_client_and_prints_its_token_once(db: None) -> None:
    out, err = io.StringIO(), io.StringIO()

    call_command("storefront_client", "create", "preview", "--scope", "catalog:read", "--pilot", "--rate", "60",
                 stdout=out, stderr=err)  # fmt: skip

    token = out.getvalue().strip()
    client = StorefrontClient.objects.get(name="preview")
    assert (client.scopes, client.can_see_pilot, client.rate_limit) == (["catalog:read"], True, 60)
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    listing = io.StringIO()
    call_command("storefront_client", "list", stdout=listing)
    assert "preview" in listing.getvalue()
    assert token[:8] in listing.getvalue()
    assert token not in listing.getvalue()


def test_the_command_rotates_and_deactivates(db: None) -> None:
    client, token = storefront_client_create(name="shop", scopes=["catalog:read"])
    out = io.StringIO()

    call_command("storefront_client", "rotate", "shop", stdout=out, stderr=io.StringIO())
    call_command("storefront_client", "deactivate", "shop", stderr=io.StringIO())

    client.refresh_from_db()
    assert out.getvalue().strip() != token
    assert client.token_hash == hashlib.sha256(out.getvalue().strip().encode()).hexdigest()
    assert client.active is False


def test_the_admin_creates_a_client_and_shows_its_token_once(db: None) -> None:
    User.objects.create_superuser("admin", "admin@example.com", "pw")
    browser = Client()
    browser.login(username="admin", password="pw")

    response = browser.post(
        "/admin/integration/storefrontclient/add/",
        {"name": "next", "scopes": ["catalog:read", "reservations:write"], "rate_limit": "120"},
        follow=True,
    )

    client = StorefrontClient.objects.get(name="next")
    shown = [str(m) for m in response.context["messages"]]
    token = next(m.rsplit(" ", 1)[1] for m in shown if "affiché cette seule fois" in m)
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert client.scopes == ["catalog:read", "reservations:write"]
    listing = browser.get("/admin/integration/storefrontclient/").content.decode()
    assert client.token_prefix in listing
    assert token not in listing
    assert client.token_hash not in listing
    page = browser.get(f"/admin/integration/storefrontclient/{client.pk}/change/").content.decode()
    assert token not in page
    assert client.token_hash not in page


def test_the_admin_rotates_tokens_and_edits_a_client(db: None) -> None:
    User.objects.create_superuser("admin", "admin@example.com", "pw")
    browser = Client()
    browser.login(username="admin", password="pw")
    client, old = storefront_client_create(name="next", scopes=["catalog:read"])

    rotated = browser.post(
        "/admin/integration/storefrontclient/",
        {"action": "rotate_tokens", "_selected_action": [client.pk]},
        follow=True,
    )
    edited = browser.post(
        f"/admin/integration/storefrontclient/{client.pk}/change/",
        {"scopes": ["availability:read"], "can_see_pilot": "on", "rate_limit": "30"},
        follow=True,
    )

    new = next(str(m) for m in rotated.context["messages"] if "affiché cette seule fois" in str(m)).rsplit(" ", 1)[1]
    assert edited.status_code == 200
    client.refresh_from_db()
    assert (
        client.token_hash
        == hashlib.sha256(new.encode()).hexdigest()
        != hashlib.sha256(old.encode()).hexdigest()
    )
    assert (client.name, client.scopes, client.can_see_pilot, client.rate_limit) == (
        "next",
        ["availability:read"],
        True,
        30,
    )
    assert client.active is False  # an unticked box: the edit form deactivates
