"""The project's own admin shows the simulator's page (integration/admin.py hooks it in)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from django.test import Client
from pytest_django import Settings

from integration.codec import PARIS


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
    assert b"not seeded" in page.content
