"""The returns' fixtures: ``shop``, a small catalogue to place orders on and return them.

The simulated AS400 (``simulator``) and ``make_api`` are shared fixtures (tests/plugins/); the
helpers (``Shop``, ``ship``, ``line_of``, ``refusal``) are in tests/factories/returns.py.
"""

from __future__ import annotations

import pytest

from tests.factories.returns import Shop


@pytest.fixture(autouse=True)
def own_rate_counts(own_rate_counts: None) -> None:
    """Autouse for every test of this directory (the fixture is tests/plugins/storefront.py's)."""


@pytest.fixture
def shop(db: None) -> Shop:
    return Shop()
