"""The admin carries the product's own name on every page, never Django's defaults.

Django names its admin "Django administration" (« Administration de Django ») in the header and
"Django site admin" (« Site d'administration de Django ») at the end of every page's title, which
tell staff nothing of what the console is for. Every page staff can open (the login page before
anyone is logged in, the home page, each app's page, each list, each object's page and add page,
the site's own pages, the password change, the logged-out page) must say the product's name,
in French by default and in English when chosen.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.db import router
from django.test import Client
from django.urls import NoReverseMatch, reverse
from pytest_django import Settings

from tests.factories.admin import World
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]  # the world sends a file: never in the batch window

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
HEADER = re.compile(r'<div id="site-name"><a href="[^"]*">(.*?)</a></div>', re.S)
CONTENT_TITLE = re.compile(r"<h1>(.*?)</h1>", re.S)
FRENCH = {"title": "Intégration commerce", "header": "Console d'intégration commerce", "home": "Accueil"}
ENGLISH = {"title": "Retail integration", "header": "Retail integration console", "home": "Home"}
DJANGOS = [  # Django's defaults, in English and in its French
    "Django administration", "Django site admin", "Site administration",
    "Administration de Django", "Site d'administration de Django", "Administration du site",
]  # fmt: skip


def name_shown(page_html: str) -> tuple[str, str]:
    """(the end of the page's <title>, the header's name) as the reader sees them."""
    title, header = TITLE.search(page_html), HEADER.search(page_html)
    assert title is not None
    assert header is not None
    return (
        html.unescape(title.group(1)).strip().rsplit(" | ", 1)[-1],
        html.unescape(header.group(1)).strip(),
    )


def staff_pages() -> list[str]:
    """Every admin page a superuser opens with a GET: the home page, each app's page, each list,
    each model's add page and its first row's page, the site's own pages, the password change."""
    urls = {reverse("admin:index"), reverse("admin:password_change")}
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.add(reverse("admin:app_list", args=[model._meta.app_label]))
        urls.add(reverse(f"{info}_changelist"))
        row = model._default_manager.using(router.db_for_read(model)).order_by("pk").first()
        pages = [("add", [])] + ([("change", [row.pk])] if row is not None else [])  # rows: conftest
        for name, args in pages:
            try:
                urls.add(reverse(f"{info}_{name}", args=args))
            except NoReverseMatch:  # a page this admin does not have (the selling switch's add)
                continue
    urls.update(reverse(f"admin:{name}") for name in admin.site.__dict__.get("_extra_pages", ()))
    return sorted(urls)


@pytest.fixture
def simulator_on(settings: Settings, tmp_path: Path) -> None:
    settings.AS400_SIMULATOR_ENABLED = True
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"


def test_every_staff_page_carries_the_products_name_in_french(
    world: World, simulator_on: None, superuser_client: Client
) -> None:
    shown: dict[str, tuple[str, str]] = {}
    for url in staff_pages():
        response = superuser_client.get(url)
        if response.status_code == 403:  # an add page of a list that is read-only: no page to name
            continue
        assert response.status_code == 200, (url, response.status_code)
        shown[url] = name_shown(response.content.decode())

    assert len(shown) > 60
    assert {url: name for url, name in shown.items() if name != (FRENCH["title"], FRENCH["header"])} == {}


def test_the_login_and_logged_out_pages_carry_it_too(superuser_client: Client) -> None:
    login = html.unescape(Client().get(reverse("admin:login")).content.decode())
    logged_out = html.unescape(superuser_client.post(reverse("admin:logout")).content.decode())

    assert name_shown(login) == (FRENCH["title"], FRENCH["header"])
    assert name_shown(logged_out) == (FRENCH["title"], FRENCH["header"])
    assert [text for text in DJANGOS if text in login or text in logged_out] == []


def test_the_home_page_is_titled_home_and_the_name_follows_the_language(superuser_client: Client) -> None:
    index = reverse("admin:index")

    french = html.unescape(superuser_client.get(index).content.decode())
    superuser_client.post(reverse("set_language"), {"language": "en", "next": index})
    english = html.unescape(superuser_client.get(index).content.decode())

    for page_html, said in [(french, FRENCH), (english, ENGLISH)]:
        heading, title = CONTENT_TITLE.search(page_html), TITLE.search(page_html)
        assert heading is not None
        assert heading.group(1).strip() == said["home"]
        assert title is not None
        assert title.group(1).strip() == f"{said['home']} | {said['title']}"
        assert name_shown(page_html) == (said["title"], said["header"])
        assert [text for text in DJANGOS if text in page_html] == []
