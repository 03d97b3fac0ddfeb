"""Fixtures and markers shared by every suite.

- `exchange_dir`: an empty AS400 exchange folder (IN/, IN/DONE/, IN/ERR/, OUT/) in tmp_path, set as
  settings.AS400_EXCHANGE_DIR for the test.
- `processes`: the owner of every process a test starts (tests/processes.py, which says the rules:
  each in a group of its own, ended with its children when the test ends however it ends; loops
  bounded; no test depends on the machine's speed).
- `@pytest.mark.postgres`: skipped unless the default database is PostgreSQL (DATABASE_URL).
- `@pytest.mark.redis`: skipped unless REDIS_URL is set.
- `@pytest.mark.clock(moment)`: the whole process's clock (``timezone.now()``, ``time.time()``,
  ``datetime.now()``...) is frozen at ``moment`` for the test, with time-machine. A test that needs
  a date takes it this way, never by passing a fixed date to code that reads the real clock; the
  test moves it on with the ``clock`` fixture (``clock.move_to(...)``, ``clock.shift(...)``).
  ``time.monotonic()`` is left alone, so waits and timeouts still run on real time.

Fixtures that several directories take are plugins listed in ``pytest_plugins`` below (the
``simulator``, tests/plugins/simulator.py; ``make_api`` and ``own_rate_counts``,
tests/plugins/storefront.py), never imported from another conftest; the plain helpers tests build
with are in tests/factories/, and the thread-race harness in tests/races.py.
tests/test_test_layout.py fails on any import from a conftest or a test module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from pytest_django import Settings

from integration.core.reference_cache import reference_forget
from tests.processes import Processes

pytest_plugins = ["tests.plugins.simulator", "tests.plugins.storefront", "tests.plugins.shopify"]

EXCHANGE_SUBDIRS = ("IN", "IN/DONE", "IN/ERR", "OUT")


def default_database_is_postgres() -> bool:
    return "postgresql" in django_settings.DATABASES["default"]["ENGINE"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    engine = django_settings.DATABASES["default"]["ENGINE"]
    skip_postgres = pytest.mark.skip(
        reason=f"needs PostgreSQL: the default database is {engine} (set DATABASE_URL=postgres://...)"
    )
    skip_redis = pytest.mark.skip(reason="needs Redis: REDIS_URL is not set")
    for item in items:
        if "postgres" in item.keywords and not default_database_is_postgres():
            item.add_marker(skip_postgres)
        if "redis" in item.keywords and not django_settings.REDIS_URL:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[time_machine.Coordinates | None]:
    """The frozen clock of a test marked ``@pytest.mark.clock(moment)``; None (the real clock) otherwise.

    Autouse so that the clock is frozen before any other fixture of the test reads it.
    """
    marker = request.node.get_closest_marker("clock")
    if marker is None:
        yield None
        return
    with time_machine.travel(marker.args[0], tick=False) as coordinates:
        yield coordinates


@pytest.fixture(autouse=True)
def webhooks_to_this_machine(settings: Settings) -> None:
    """The tests' webhook receivers listen on 127.0.0.1: allowed here as in DEBUG (the guard's own
    tests switch it off)."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture(autouse=True)
def reference_cache_fresh() -> Iterator[None]:
    """No test sees reference data kept by the one before (its rows were rolled back since)."""
    reference_forget()
    yield
    reference_forget()


@pytest.fixture
def exchange_dir(tmp_path: Path, settings: Settings) -> Path:
    """An empty exchange folder, used by the settings for this test: IN/, IN/DONE/, IN/ERR/, OUT/."""
    root = tmp_path / "exchange"
    for sub in EXCHANGE_SUBDIRS:
        (root / sub).mkdir(parents=True)
    settings.AS400_EXCHANGE_DIR = root
    return root


@pytest.fixture
def processes() -> Iterator[Processes]:
    """Starts processes for the test; on teardown (passed, failed or interrupted) every group still
    running gets SIGTERM, a grace period, SIGKILL, and is reaped."""
    with Processes() as owner:
        yield owner


@pytest.fixture
def english(settings: Settings) -> None:
    """The admin (and every text of ours) in English, for the tests that read its English texts:
    French is the default (LANGUAGE_CODE), which a request without a language choice falls back to."""
    settings.LANGUAGE_CODE = "en"
