"""The project's own admin shows the simulator's page (integration/admin.py hooks it in): only
where AS400_SIMULATOR_ADMIN is on, and only to staff with integration.use_as400_simulator."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from pytest_django import Settings

from integration.as400.codec import PARIS


@pytest.mark.django_db
def test_the_project_admin_index_and_page(admin_client: Client, tmp_path: Path, settings: Settings) -> None:
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    settings.AS400_SIMULATOR = {"start": datetime(2025, 11, 24, 10, 0, tzinfo=PARIS), "items": 30}

    index = admin_client.get("/admin/")
    integration = admin_client.get("/admin/integration/")
    page = admin_client.get("/admin/as400-simulator/")

    assert b'href="/admin/as400-simulator/"' in index.content
    assert b'href="/admin/as400-simulator/"' in integration.content
    assert page.status_code == 200
    assert "non initialisé" in page.content.decode()  # in French, the admin's default


def staff_client(*, allowed: bool) -> Client:
    user = get_user_model().objects.create_user("ops", "ops@example.com", "pw", is_staff=True)
    if allowed:
        user.user_permissions.add(Permission.objects.get(codename="use_as400_simulator"))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_off_the_page_is_not_there_even_for_a_superuser(
    admin_client: Client, tmp_path: Path, settings: Settings
) -> None:
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    settings.AS400_SIMULATOR_ADMIN = False

    assert admin_client.get("/admin/as400-simulator/").status_code == 404
    assert admin_client.post("/admin/as400-simulator/", {"action": "seed"}).status_code == 404
    assert b"as400-simulator" not in admin_client.get("/admin/").content
    assert b"as400-simulator" not in admin_client.get("/admin/integration/").content
    assert not (tmp_path / "as400.sqlite3").exists()


@pytest.mark.django_db
def test_on_only_staff_with_the_permission_use_it(tmp_path: Path, settings: Settings) -> None:
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    settings.AS400_SIMULATOR = {"start": datetime(2025, 11, 24, 10, 0, tzinfo=PARIS), "items": 30}
    settings.AS400_SIMULATOR_ADMIN = True
    without = staff_client(allowed=False)

    assert without.get("/admin/as400-simulator/").status_code == 403
    assert without.post("/admin/as400-simulator/", {"action": "seed"}).status_code == 403
    assert b"as400-simulator" not in without.get("/admin/").content
    assert not (tmp_path / "as400.sqlite3").exists()  # the simulator was never opened

    get_user_model().objects.all().delete()
    allowed = staff_client(allowed=True)
    assert allowed.get("/admin/as400-simulator/").status_code == 200
    assert b'href="/admin/as400-simulator/"' in allowed.get("/admin/").content
    assert allowed.post("/admin/as400-simulator/", {"action": "seed"}).status_code == 302
