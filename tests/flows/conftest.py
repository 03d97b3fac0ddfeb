"""The flows share the orders suite's simulated AS400 (a module may still define its own)."""

from tests.orders.conftest import simulator  # noqa: F401 (a fixture)
