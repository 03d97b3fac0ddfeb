"""Storefront clients' fixtures for every suite that calls the API (the API's tests, the returns').

A pytest plugin (listed in tests/conftest.py's ``pytest_plugins``):

- ``make_api``: make_api(name="shop", scopes=ALL_SCOPES, pilot=False, rate=10_000) → an APIClient
  with its token.
- ``own_rate_counts``: the test counts rate limits under a cache prefix of its own, so that tests
  (and xdist workers sharing one Redis) never see each other's counts. Not autouse here: the
  directories whose tests call the API make it autouse in their conftest.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings as django_settings
from pytest_django import Settings
from rest_framework.test import APIClient

from integration.storefront.clients import storefront_client_create
from tests.factories.api import ALL_SCOPES, MakeApi


@pytest.fixture
def own_rate_counts(settings: Settings) -> None:
    caches = {name: dict(config) for name, config in django_settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def make_api(db: None) -> MakeApi:
    """make_api(name="shop", scopes=ALL_SCOPES, pilot=False, rate=10_000) → an APIClient with its token."""
    counter = iter(range(1_000_000))

    def make(
        name: str | None = None, *, scopes: list[str] | None = None, pilot: bool = False, rate: int = 10_000
    ) -> APIClient:
        client, token = storefront_client_create(
            name=name or f"shop-{next(counter)}",
            scopes=ALL_SCOPES if scopes is None else scopes,
            can_see_pilot=pilot,
            rate_limit=rate,
        )
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        api.storefront_client = client  # type: ignore[attr-defined]
        api.token = token  # type: ignore[attr-defined]
        return api

    return make
