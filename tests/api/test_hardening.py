"""Hostile and broken input, a cache that is down, a proxy in front: the API stays in its shape."""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import Settings
from rest_framework.test import APIClient

from integration.models import StorefrontClient
from integration.storefront.api.auth import StorefrontClientThrottle
from tests.factories.api import error_of
from tests.factories.catalogue import Catalogue
from tests.processes import Processes

PRODUCTS = "/api/v1/products/"
RESERVATIONS = "/api/v1/reservations/"


def test_deeply_nested_json_is_a_400_not_a_500(catalogue: Catalogue, api: APIClient) -> None:
    # given a body nested deeper than Python's recursion limit
    body = "[" * 100_000 + "]" * 100_000

    # when
    response = api.post(RESERVATIONS, body, content_type="application/json")

    # then
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_a_huge_body_is_refused_in_the_shape(catalogue: Catalogue, api: APIClient) -> None:
    body = json.dumps({"lines": [{"sku": "A" * 50, "quantity": 1}] * 200_000})

    response = api.post(RESERVATIONS, body, content_type="application/json")

    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"


def test_too_many_query_parameters_are_400_in_the_shape(catalogue: Catalogue, api: APIClient) -> None:
    response = api.get("/api/v1/availability/?" + "&".join(f"sku={i}" for i in range(1500)))

    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_a_host_django_refuses_is_400_in_the_shape_under_api(db: None) -> None:
    response = Client().get(PRODUCTS, HTTP_HOST="evil.example.com")

    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_non_utf8_bytes_are_a_parse_error(catalogue: Catalogue, api: APIClient) -> None:
    response = api.post(RESERVATIONS, b'{"lines": "\xff\xfe"}', content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_a_form_body_is_415(catalogue: Catalogue, api: APIClient) -> None:
    response = api.post(RESERVATIONS, "a=b", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00"]
)
def test_extreme_updated_since_is_not_a_500(catalogue: Catalogue, api: APIClient, when: str) -> None:
    response = api.get(PRODUCTS, {"updated_since": when})

    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        error_of(response)


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_a_cursor_at_the_ends_of_time_is_not_a_500(catalogue: Catalogue, api: APIClient, when: str) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(f"{when}|1".encode()).decode().rstrip("=")
    response = api.get(PRODUCTS, {"cursor": cursor})

    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        error_of(response)


@pytest.mark.parametrize("limit", ["0", "-1", "101", "99999999999999999999999", "1e3", ""])
def test_bad_limits_are_400(catalogue: Catalogue, api: APIClient, limit: str) -> None:
    response = api.get(PRODUCTS, {"limit": limit})

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"


def test_a_very_long_sku_in_the_path_is_404(catalogue: Catalogue, api: APIClient) -> None:
    response = api.get(f"{PRODUCTS}{'A' * 5000}/")

    assert response.status_code == 404
    error_of(response)


def test_a_very_long_idempotency_key_is_400(catalogue: Catalogue, api: APIClient) -> None:
    catalogue.product("A")
    response = api.post(
        RESERVATIONS,
        {"lines": [{"sku": "A", "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 10_000,
    )

    assert response.status_code == 400
    error_of(response)


def test_availability_with_nul_is_400(catalogue: Catalogue, api: APIClient) -> None:
    response = api.get("/api/v1/availability/", {"sku": "A\x00B"})

    assert response.status_code == 400
    error_of(response)


def test_options_needs_a_token(catalogue: Catalogue) -> None:
    response = APIClient().options(PRODUCTS)

    assert response.status_code == 401


# --- Tokens -----------------------------------------------------------------------------------


def test_a_token_is_looked_up_by_its_hash_never_by_its_own_characters(
    catalogue: Catalogue, api: APIClient
) -> None:
    # given a guess that shares the real token's first characters
    token: str = api.token  # type: ignore[attr-defined]
    guess = token[:8] + "x" * (len(token) - 8)

    # when
    with CaptureQueriesContext(connection) as queries:
        response = APIClient().get(PRODUCTS, HTTP_AUTHORIZATION=f"Bearer {guess}")

    # then the database was asked about a SHA-256 only: timing can tell nothing of the token
    assert error_of(response)["code"] == "invalid_token"
    lookups = [q["sql"] for q in queries.captured_queries if "storefrontclient" in q["sql"].lower()]
    assert len(lookups) == 1
    where = lookups[0].split(" WHERE ", 1)[1]
    assert "token_hash" in where
    assert "token_prefix" not in where
    assert token[:8] not in str(queries.captured_queries)


# --- The rate limit when its cache is down ----------------------------------------------------

DEAD_REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:1/0",
                          "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}  # fmt: skip


def test_with_the_cache_down_requests_are_served_uncounted_by_default(
    catalogue: Catalogue, api: APIClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # given a Redis nobody listens on
    settings.CACHES = DEAD_REDIS

    # when
    response = api.get(PRODUCTS)

    # then the sale goes on, and the outage is logged
    assert response.status_code == 200
    assert "rate-limit cache unreachable" in caplog.text


def test_with_the_cache_down_a_deployment_may_fail_closed(
    catalogue: Catalogue, api: APIClient, settings: Settings
) -> None:
    settings.CACHES = DEAD_REDIS
    settings.API_THROTTLE_FAIL_OPEN = False

    response = api.get(PRODUCTS)

    assert response.status_code == 503
    assert error_of(response)["code"] == "rate_limit_unavailable"


def test_retry_after_is_the_time_left_in_the_window(
    catalogue: Catalogue, make_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The throttle's clock stands still at 17.25 s into a minute: 42.75 s are left in its window,
    # whenever the test runs and however long the requests take.
    now = 29_400_000 * 60 + 17.25
    monkeypatch.setattr(StorefrontClientThrottle, "timer", staticmethod(lambda: now))
    api = make_api(rate=1)
    api.get(PRODUCTS)

    response = api.get(PRODUCTS)

    assert response.status_code == 429
    assert response["Retry-After"] == str(math.ceil(60 - now % 60)) == "43"


# --- Behind a TLS proxy -----------------------------------------------------------------------


def test_next_links_are_https_behind_a_trusted_proxy(
    catalogue: Catalogue, api: APIClient, settings: Settings
) -> None:
    # given a proxy that terminates TLS and says so
    for n in range(3):
        catalogue.product(f"S{n}")
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["shop.example.com"]

    # when
    response = api.get(
        PRODUCTS, {"limit": 1}, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="shop.example.com"
    )

    # then
    assert response.json()["next"].startswith("https://shop.example.com/api/v1/products/?")


def test_proxy_headers_are_not_trusted_unless_configured(catalogue: Catalogue, api: APIClient) -> None:
    for n in range(3):
        catalogue.product(f"S{n}")

    response = api.get(
        PRODUCTS, {"limit": 1}, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="evil.com"
    )

    assert response.json()["next"].startswith("http://testserver/")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "None False"),
        (
            {
                "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
                "DJANGO_USE_X_FORWARDED_HOST": "true",
            },
            "('HTTP_X_FORWARDED_PROTO', 'https') True",
        ),
    ],
)
def test_the_proxy_settings_come_from_the_environment(
    env: dict[str, str], expected: str, processes: Processes
) -> None:
    code = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER, s.USE_X_FORWARDED_HOST)"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_SECURE", "DJANGO_USE_X"))}
    out = processes.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        check=True,
    )
    assert out.stdout.strip() == expected


# --- The admin --------------------------------------------------------------------------------


def test_the_admin_cannot_delete_a_client_so_its_name_is_never_reused(db: None) -> None:
    from django.contrib.auth.models import User

    from integration.storefront.clients import storefront_client_create

    # given a client (its name holds its reservations and Idempotency-Keys)
    User.objects.create_superuser("admin", "admin@example.com", "pw")
    browser = Client()
    browser.login(username="admin", password="pw")
    client, _ = storefront_client_create(name="shop", scopes=["catalog:read"])

    # when staff try to delete it
    page = browser.get(f"/admin/integration/storefrontclient/{client.pk}/delete/")
    bulk = browser.post(
        "/admin/integration/storefrontclient/",
        {"action": "delete_selected", "_selected_action": [client.pk], "post": "yes"},
    )

    # then it is refused: deactivating is the way
    assert page.status_code == 403
    assert bulk.status_code in (200, 302)
    assert StorefrontClient.objects.filter(pk=client.pk).exists()


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("levels", [9, 400, 940])
def test_attributes_nested_too_deep_are_refused_and_nothing_is_stored(
    catalogue: Catalogue, api: APIClient, levels: int
) -> None:
    # given a product, and attributes nested deeper than a product's attributes may be (the attack
    # stored 905-932 levels, which then made the admin page a 500; 933-947 made the PATCH a 500)
    product = catalogue.product("A")
    body = json.dumps({"attributes": _nested(levels)})

    # when
    response = api.patch(f"{PRODUCTS}A/content/", body, content_type="application/json")

    # then a 400 that says how deep is allowed, and the product keeps what it had
    assert response.status_code == 400
    assert "at most" in json.dumps(response.json())
    product.refresh_from_db()
    assert product.attributes == {}


def test_attributes_within_the_limits_are_kept(catalogue: Catalogue, api: APIClient) -> None:
    product = catalogue.product("A")

    response = api.patch(f"{PRODUCTS}A/content/", {"attributes": _nested(8)}, format="json")

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.attributes == _nested(8)


def test_the_model_refuses_attributes_too_deep_for_every_writer_admin_included(catalogue: Catalogue) -> None:
    from django.core.exceptions import ValidationError

    product = catalogue.product("A")
    product.attributes = _nested(50)

    with pytest.raises(ValidationError, match="at most 8"):
        product.full_clean()
