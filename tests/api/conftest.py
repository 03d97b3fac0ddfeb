"""The storefront API's fixtures: a small catalogue and an API client with every scope.

Each test counts rate limits under its own cache prefix (``own_rate_counts``, made autouse here).
``make_api`` is shared with the returns' tests (tests/plugins/storefront.py); the helpers the
tests build with and check answers with are in tests/factories/ (catalogue.py, api.py).
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories.api import MakeApi
from tests.factories.catalogue import Catalogue


@pytest.fixture(autouse=True)
def own_rate_counts(own_rate_counts: None) -> None:
    """Autouse for every test of this directory (the fixture is tests/plugins/storefront.py's)."""


@pytest.fixture
def catalogue(db: None) -> Catalogue:
    return Catalogue()


@pytest.fixture
def api(make_api: MakeApi) -> APIClient:
    """A client with every scope, that does not see pilot categories."""
    return make_api("shop")
