"""Smoke tests of the project itself: checks, migrations, backend choice, demo data."""

from __future__ import annotations

import os
import stat
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from pytest_django import Settings

from config.backends import database_config, q_cluster_config

POSTGRES_ENGINE = "django.db.backends.postgresql"
SQLITE_ENGINE = "django.db.backends.sqlite3"


def test_system_checks_pass() -> None:
    out = StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()


@pytest.mark.django_db
def test_migrations_match_the_models() -> None:
    out = StringIO()
    try:
        call_command("makemigrations", check=True, dry_run=True, stdout=out)
    except SystemExit:
        pytest.fail(f"models and migrations differ, run makemigrations:\n{out.getvalue()}")


# --- Which backend the settings pick ----------------------------------------------------------


def test_postgres_url_gives_postgresql_without_sqlite_options() -> None:
    config = database_config("postgres://postgres@127.0.0.1:54321/platform")

    assert config["ENGINE"] == POSTGRES_ENGINE
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "127.0.0.1",
        54321,
        "platform",
        "postgres",
    )
    assert "transaction_mode" not in config.get("OPTIONS", {})


def test_sqlite_url_gives_a_file_shared_safely_between_processes(tmp_path: Path) -> None:
    config = database_config(f"sqlite:///{tmp_path / 'db.sqlite3'}")

    assert config["ENGINE"] == SQLITE_ENGINE
    assert config["NAME"] == str(tmp_path / "db.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_settings_use_the_database_of_database_url() -> None:
    url = os.environ.get("DATABASE_URL", "")
    expected = POSTGRES_ENGINE if url.startswith(("postgres://", "postgresql://")) else SQLITE_ENGINE

    assert django_settings.DATABASES["default"]["ENGINE"] == expected


def test_redis_url_gives_the_redis_broker() -> None:
    config = q_cluster_config("redis://127.0.0.1:6380/0")

    assert config["redis"] == "redis://127.0.0.1:6380/0"
    assert "orm" not in config


def test_no_redis_url_gives_the_database_broker() -> None:
    config = q_cluster_config("")

    assert config["orm"] == "default"
    assert "redis" not in config


def test_task_timeout_must_be_below_retry() -> None:
    with pytest.raises(ValueError, match="below Q_RETRY"):
        q_cluster_config("", timeout=180, retry=180)


def test_settings_use_the_broker_of_redis_url() -> None:
    redis_url = os.environ.get("REDIS_URL", "")

    assert django_settings.Q_CLUSTER.get("redis") == (redis_url or None)
    assert django_settings.Q_CLUSTER.get("orm") == (None if redis_url else "default")


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_is_reachable_and_can_skip_locked_rows() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)

    assert connection.vendor == "postgresql"
    # The outbox dispatchers rely on it: several of them must never claim the same message.
    assert connection.features.has_select_for_update_skip_locked


@pytest.mark.redis
def test_redis_broker_round_trip() -> None:
    from django_q.brokers import get_broker
    from django_q.brokers.redis_broker import Redis

    broker = get_broker(list_key=f"test-{uuid.uuid4().hex}")
    try:
        assert isinstance(broker, Redis)
        assert broker.ping()
        broker.enqueue("payload")
        assert broker.queue_size() == 1
        assert [task for _, task in broker.dequeue()] == [b"payload"]
        assert broker.queue_size() == 0
    finally:
        broker.delete_queue()


# --- demo_data --------------------------------------------------------------------------------


def run_demo_data() -> str:
    out = StringIO()
    call_command("demo_data", "--skip-simulator", stdout=out)
    return out.getvalue()


def admin_login(client: Client, password: str) -> None:
    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": password})
    assert response.status_code == 302, "the login form refused admin's password"
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.fixture
def demo_var_dir(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_demo_data_creates_a_superuser_who_can_log_in_to_the_admin(
    demo_var_dir: Path, client: Client
) -> None:
    output = run_demo_data()

    password_file = demo_var_dir / "demo-admin-password"
    assert "'admin' created" in output
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert len(password) >= 12
    admin_login(client, password)


@pytest.mark.django_db
def test_demo_data_twice_keeps_one_admin_and_resets_its_password(demo_var_dir: Path, client: Client) -> None:
    run_demo_data()
    password = (demo_var_dir / "demo-admin-password").read_text().strip()
    user = get_user_model().objects.get(username="admin")
    user.set_password("changed by someone")
    user.is_active = False
    user.save()

    output = run_demo_data()

    assert "already there" in output
    assert get_user_model().objects.filter(username="admin").count() == 1
    assert (demo_var_dir / "demo-admin-password").read_text().strip() == password
    admin_login(client, password)


@pytest.mark.django_db
def test_demo_data_takes_the_password_from_the_environment(
    demo_var_dir: Path, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "given-by-the-environment")

    output = run_demo_data()

    assert "password from DEMO_ADMIN_PASSWORD" in output
    assert not (demo_var_dir / "demo-admin-password").exists()
    admin_login(client, "given-by-the-environment")


@pytest.mark.django_db
def test_demo_data_warns_and_goes_on_without_the_simulator(
    demo_var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("demo.services.get_commands", lambda: {"demo_data": "integration"})
    out, err = StringIO(), StringIO()

    call_command("demo_data", stdout=out, stderr=err)

    assert "'admin' created" in out.getvalue()
    assert "the AS400 simulator was not seeded" in err.getvalue()


@pytest.mark.django_db
def test_demo_data_loads_the_simulators_catalogue_once_and_opens_a_few_families(
    demo_var_dir: Path, tmp_path: Path, settings: Settings
) -> None:
    from inventory.models import Category, Location, Product, RolloutChange, StockLevel

    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    settings.AS400_SIMULATOR = {"items": 120}

    first = StringIO()
    call_command("demo_data", stdout=first)
    call_command("demo_data", stdout=StringIO())

    assert Location.objects.count() == 31
    assert Product.objects.count() == 120
    assert StockLevel.objects.exists()
    stages = list(Category.objects.exclude(rollout_stage="off").values_list("rollout_stage", flat=True))
    assert sorted(stages) == ["live", "live", "live", "pilot"]
    assert RolloutChange.objects.filter(changed_by_name="demo_data").count() == 4  # not again the second time
    assert "ITMMST_000001 F applied" in first.getvalue()
    # The families have names, the simulator's labels (ITMMST carries only their codes).
    from integration.as400.simulator.catalogue import FAMILIES

    labels = {family.code: family.name for family in FAMILIES}
    named = dict(Category.objects.values_list("family_code", "name"))
    assert named
    assert named == {code: labels[code] for code in named}
    assert "families named as the simulator's catalogue names them" in first.getvalue()
    from reconciliation.models import Discrepancy, Run

    assert Run.objects.count() == 1  # the night of the demo's extracts, reconciled once, not again
    assert Discrepancy.objects.filter(state="open").values("kind").distinct().count() >= 2
    assert "Reconciliation: rapprochement de la nuit" in first.getvalue()


@pytest.mark.django_db
def test_demo_data_gives_a_storefront_token_that_works_and_keeps_it(
    demo_var_dir: Path, client: Client
) -> None:
    run_demo_data()
    token = (demo_var_dir / "demo-storefront-token").read_text().strip()
    run_demo_data()

    assert (demo_var_dir / "demo-storefront-token").read_text().strip() == token
    assert stat.S_IMODE((demo_var_dir / "demo-storefront-token").stat().st_mode) == 0o600
    response = client.get("/api/v1/availability/?sku=NOPE", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


# --- The clock-ahead run (CI's guard against tests that fix a date) ---------------------------


def _clock_ahead_seconds() -> int:
    if os.environ.get("TEST_CLOCK_AHEAD_SECONDS"):
        return int(os.environ["TEST_CLOCK_AHEAD_SECONDS"])
    return int(os.environ.get("TEST_CLOCK_AHEAD_DAYS") or 0) * 86_400


@pytest.mark.skipif(not _clock_ahead_seconds(), reason="not the clock-ahead run")
def test_the_clock_ahead_run_moves_this_process_and_the_processes_it_starts() -> None:
    import subprocess
    import sys
    import time

    import time_machine
    from django.utils import timezone

    ahead = _clock_ahead_seconds()
    real = time_machine.escape_hatch.time.time()
    child = subprocess.run(
        [sys.executable, "-c", "import time; print(time.time())"], capture_output=True, text=True, check=True
    )

    assert abs(timezone.now().timestamp() - real - ahead) < 3_600
    assert abs(float(child.stdout) - real - ahead) < 3_600
    assert time.monotonic() < ahead  # waits and timeouts stay on real time
