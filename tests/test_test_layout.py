"""The tests' own layout: no module imports from a conftest or from a test module.

A conftest is pytest's to load, and a ``test_*`` module is pytest's to collect: imported by another
module as well, it is loaded twice under ``--import-mode=importlib`` (two copies of its classes
and constants), and the fixtures it defines are silently re-registered wherever it is imported.
Plain helpers (builders, constants, types) live in tests/factories/, the thread-race harness in
tests/races.py, moments in tests/moments.py; a fixture that several directories need is a plugin
listed in tests/conftest.py's ``pytest_plugins`` (tests/plugins/), found by pytest by its name.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _forbidden(dotted: str) -> bool:
    """A conftest or a test module: one of the dotted name's parts is ``conftest`` or ``test_*``."""
    return any(part == "conftest" or part.startswith("test_") for part in dotted.split("."))


def _ours(dotted: str) -> bool:
    """A module of the test tree (``tests.…``), or one imported as if the tests' folders were on
    the path (``conftest``, ``test_orders``), not a library's whose name merely looks alike."""
    top = dotted.split(".")[0]
    return top == "tests" or _forbidden(top)


def forbidden_imports(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, statement) of each import in ``source`` from a conftest or a test module."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name) and _forbidden(alias.name):
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            imported = [f"{module}.{alias.name}" if module else alias.name for alias in node.names]
            # relative: of the test tree, whatever the name; absolute: of the test tree if _ours
            if (node.level or _ours(module)) and any(map(_forbidden, [module, *imported])):
                names = ", ".join(alias.name for alias in node.names)
                found.append((node.lineno, f"from {'.' * node.level}{module} import {names}"))
    return found


def test_no_module_of_the_tests_imports_from_a_conftest_or_a_test_module() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {statement}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, statement in forbidden_imports(path.read_text(encoding="utf-8"), str(path))
    ]

    assert offences == [], (
        "import helpers from tests/factories/ (or tests/moments.py, tests/races.py) and take shared "
        "fixtures by name (tests/plugins/, listed in tests/conftest.py's pytest_plugins):\n  "
        + "\n  ".join(offences)
    )


def test_the_check_sees_relative_and_absolute_imports_of_conftests_and_test_modules() -> None:
    source = "\n".join(
        [
            "from .conftest import place",  # 1
            "from ..inventory.test_reservations import Catalogue",  # 2
            "from . import conftest",  # 3
            "from tests.orders.conftest import simulator",  # 4
            "from tests.api.test_orders import CUSTOMER",  # 5
            "import tests.api.conftest",  # 6
            "from tests.api import test_orders",  # 7
            "from conftest import TUESDAY",  # 8
            "from .orders import conftest",  # 9
            "def f():\n    from tests.returns.conftest import Shop",  # 10-11: inside a function too
            "from tests.factories.orders import place",  # allowed from here on
            "from tests.moments import TUESDAY",
            "from django.test import Client",
            "from .webhook_receiver import Receiver",
            "from . import webhook_receiver",
            "import pytest_django",
        ]
    )

    assert [line for line, _ in forbidden_imports(source)] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]
