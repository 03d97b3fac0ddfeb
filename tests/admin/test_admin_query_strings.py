"""No admin page answers 500, whatever its query string says.

Every registered model's changelist (ours and the libraries'), the index, every app's index and
the site's own pages are asked for, as a superuser, with query strings an attacker (or a mangled
link) sends: a NUL (PostgreSQL refuses it in a text), a year out of range, a number that is not
one, a page that does not exist, a very long value. The answer may be a page, a redirect to the
list with ``?e=1`` (Django's "invalid lookup" answer) or a 400; never a 500.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from integration.models import FileRun
from orders.models import Order
from tests.factories.admin import World
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]

LONG = "9" * 5000
HOSTILE = [
    "status__exact=%00",
    "q=%00",
    "%00=1",
    "created_at__year=99999",
    "created_at__year=9999",
    "created_at__year=1",
    "created_at__year=9999&created_at__month=12&created_at__day=31",
    "created_at__gte=99999-01-01",
    "id__gt=abc",
    "id__gt=99999999999999999999999999",
    "o=999",
    "p=-1",
    "p=99999",
    f"q={LONG}",
    f"status__exact={LONG}",
    f"id__exact={LONG}",
    "e=1",
    "_facets=1",
    "_facets=1&status__exact=%00",
    "_facets=1&created_at__year=99999",
    "all=1",
    "_popup=1",
    "_to_field=password",
    "status__exact=%FF%FE",
]


def admin_pages() -> list[str]:
    """The URL of every changelist, of the index, of every app's index and of the site's own pages."""
    urls = {reverse("admin:index")}
    for model in admin.site._registry:
        urls.add(reverse("admin:app_list", args=[model._meta.app_label]))
        urls.add(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    urls.update(reverse(f"admin:{name}") for name in admin.site.__dict__.get("_extra_pages", ()))
    return sorted(urls)


def hostile_for(url: str) -> list[str]:
    """The hostile query strings, and the same aimed at the page's own date hierarchy."""
    queries = list(HOSTILE)
    for model, model_admin in admin.site._registry.items():
        if url == reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"):
            field = model_admin.date_hierarchy
            if field and field != "created_at":
                queries += [q.replace("created_at", field) for q in HOSTILE if "created_at" in q]
    return queries


@pytest.fixture
def simulator_on(settings: Settings, tmp_path: Path) -> None:
    settings.AS400_SIMULATOR_ENABLED = True
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"


def test_no_admin_page_answers_500_to_a_hostile_query_string(
    world: World, simulator_on: None, superuser_client: Client
) -> None:
    errors: list[tuple[str, int]] = []
    asked = 0
    for url in admin_pages():
        for query in hostile_for(url):
            response = superuser_client.get(f"{url}?{query}")
            asked += 1
            if response.status_code >= 500:
                errors.append((f"{url}?{query[:80]}", response.status_code))

    assert asked > 500
    assert errors == []


def test_a_nul_in_an_admin_query_string_is_a_bad_request(world: World, superuser_client: Client) -> None:
    orders = reverse("admin:orders_order_changelist")

    answers = [superuser_client.get(f"{orders}?{query}") for query in ("status__exact=%00", "q=%00", "%00=1")]

    assert [a.status_code for a in answers] == [400, 400, 400]


def test_a_year_out_of_range_sends_back_to_the_list_as_any_invalid_lookup(
    world: World, superuser_client: Client
) -> None:
    for model, query in [(Order, "created_at__year=99999"), (FileRun, "started_at__year=9999")]:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

        first = superuser_client.get(f"{url}?{query}")
        again: Any = superuser_client.get(f"{url}?{query}&e=1")

        assert (first.status_code, first["Location"]) == (302, f"{url}?e=1")
        assert again.status_code == 200  # Django's "database error" page, not a 500
        assert list(superuser_client.get(url).context["cl"].result_list)  # and the list still opens
