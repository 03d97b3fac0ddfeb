"""The simulator's admin page: in the index, staff only, fault buttons and steps call the simulator.

The page is hooked into an AdminSite by register_simulator_admin; these tests hook it into a site
of their own (served by this module as the URLconf), so they do not depend on what else the
project's admin registers.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from django.contrib.admin import AdminSite
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import path
from pytest_django import Settings

from integration.as400.codec import PARIS
from integration.as400.simulator import Simulator, SimulatorConfig
from integration.as400.simulator.admin import register_simulator_admin

site = AdminSite(name="admin")
register_simulator_admin(site)
register_simulator_admin(site)  # twice is harmless
urlpatterns = [path("admin/", site.urls)]

PAGE = "/admin/as400-simulator/"
# These tests read the admin's English texts (French is the default): see tests/admin for French.
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__), pytest.mark.usefixtures("english")]


@pytest.fixture
def simulator_settings(tmp_path: Path, settings: Settings) -> SimulatorConfig:
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    settings.AS400_SIMULATOR = {
        "start": datetime(2025, 11, 24, 10, 0, tzinfo=PARIS),
        "items": 60,
        "store_sales_per_hour": 0,
        "price_changes_per_day": 0,
    }
    config = SimulatorConfig.from_settings()
    with Simulator(config) as sim:
        sim.seed()
    return config


def fault(config: SimulatorConfig, name: str) -> tuple[bool, str | None]:
    with Simulator(config) as sim:
        state = next(f for f in sim.faults() if f.name == name)
    return state.active, state.value


def test_the_admin_index_links_to_the_simulator_page(
    admin_client: Client, simulator_settings: SimulatorConfig
) -> None:
    response = admin_client.get("/admin/")

    assert response.status_code == 200
    assert b"AS400 simulator" in response.content
    assert PAGE.encode() in response.content


def test_the_page_shows_the_clock_faults_and_sequences(
    admin_client: Client, simulator_settings: SimulatorConfig
) -> None:
    response = admin_client.get(PAGE)

    assert response.status_code == 200
    text = response.content.decode()
    assert "2025-11-24 10:00:00" in text
    for name in ("down", "slow", "batch", "lock", "refuse", "corrupt", "skip", "twice"):
        assert f"<strong>{name}</strong>" in text
    assert "Sequence counters" in text
    assert "Last files" in text


def test_only_staff_see_the_page(client: Client, simulator_settings: SimulatorConfig) -> None:
    anonymous = client.get(PAGE)
    user = get_user_model().objects.create_user("clerk", password="x-pass-123")
    client.force_login(user)
    not_staff = client.get(PAGE)
    posted = client.post(PAGE, {"action": "fault_on", "name": "down"})

    assert anonymous.status_code == 302
    assert "/admin/login/" in anonymous["Location"]
    assert not_staff.status_code == 302
    assert posted.status_code == 302
    assert fault(simulator_settings, "down") == (False, None)


def test_fault_buttons_switch_faults_on_and_off(
    admin_client: Client, simulator_settings: SimulatorConfig
) -> None:
    on = admin_client.post(PAGE, {"action": "fault_on", "name": "slow", "value": "15"}, follow=True)
    assert fault(simulator_settings, "slow") == (True, "15")
    assert "Fault slow switched on (value 15)." in on.content.decode()

    admin_client.post(PAGE, {"action": "fault_off", "name": "slow"})
    assert fault(simulator_settings, "slow") == (False, None)

    refused = admin_client.post(PAGE, {"action": "fault_on", "name": "slow", "value": "soon"}, follow=True)
    assert "positive number of minutes" in refused.content.decode()
    assert fault(simulator_settings, "slow") == (False, None)


def test_step_and_export_buttons(admin_client: Client, simulator_settings: SimulatorConfig) -> None:
    admin_client.post(PAGE, {"action": "step", "minutes": "5"})
    admin_client.post(PAGE, {"action": "export_full", "file": "STKBAL"})

    with Simulator(simulator_settings) as sim:
        assert sim.now() == datetime(2025, 11, 24, 10, 5, tzinfo=PARIS)
    assert (simulator_settings.out_dir / "STKBAL_000002.OK").exists()  # after the 10:05 delta
