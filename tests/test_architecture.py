"""The directions between the apps hold: the import contracts of pyproject.toml ([tool.importlinter]).

``integration`` imports no domain app; the domain apps depend one way (demo → reconciliation →
returns → orders → inventory → integration); inside ``integration`` its packages do too (monitoring
→ outbox | storefront → as400 → alerts → models → core). docs/ARCHITECTURE.md draws the same picture.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.test.utils import isolate_apps

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = ["config", "integration", "inventory", "orders", "returns", "shopify_channel", "reconciliation", "demo"]
INTEGRATION_PACKAGES = ["as400", "core", "monitoring", "outbox", "shopify", "storefront"]


def lint_imports(cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_project_keeps_its_import_contracts() -> None:
    result = lint_imports(ROOT, ROOT / "pyproject.toml")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_forbidden_import_breaks_the_contracts(tmp_path: Path) -> None:
    # given the same contracts over a tree of the same apps and packages, where integration imports
    # orders, inventory imports returns, and integration's core imports its outbox
    for package in [*APPS, *(f"integration/{p}" for p in INTEGRATION_PACKAGES)]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for module in ("alerts", "models"):
        (tmp_path / "integration" / f"{module}.py").write_text("")
    (tmp_path / "integration" / "sync.py").write_text("from orders import lifecycle\n")
    (tmp_path / "integration" / "core" / "locks.py").write_text("from integration.outbox import dispatch\n")
    (tmp_path / "integration" / "outbox" / "dispatch.py").write_text("")
    (tmp_path / "orders" / "lifecycle.py").write_text("")
    (tmp_path / "inventory" / "services.py").write_text("import returns.receipts\n")
    (tmp_path / "returns" / "receipts.py").write_text("")
    config = tmp_path / "pyproject.toml"
    config.write_text((ROOT / "pyproject.toml").read_text())

    # when the contracts are checked
    result = lint_imports(tmp_path, config)

    # then all three are broken, naming the imports
    assert result.returncode == 1, result.stdout + result.stderr
    assert "integration is the ground: it imports no domain app BROKEN" in result.stdout
    assert "domain apps depend one way" in result.stdout
    assert "inside integration, packages depend one way too BROKEN" in result.stdout
    assert "3 broken" in result.stdout
    assert "integration.sync -> orders.lifecycle" in result.stdout
    assert "inventory.services -> returns.receipts" in result.stdout
    assert "integration.core.locks -> integration.outbox.dispatch" in result.stdout


# --- AS400 field names stay where records are decoded -----------------------------------------

EXPORTS = ("ITMMST", "STKBAL", "ORDACK", "ORDSTS", "STRRTN", "WEBORD")
DOMAIN_APPS = ("inventory", "orders", "returns", "reconciliation")


def test_no_domain_app_reads_an_export_by_its_as400_field_names() -> None:
    """``integration.as400.records`` names the exports' values; a domain module that indexes a record
    by ``"SBQOH"`` or ``"AKSTAT"`` (a string literal that is an export's field name) fails here."""
    import ast

    from integration.as400.dds import load_layout

    names = {f.name for file in EXPORTS for fmt in load_layout(file).formats for f in fmt.fields}
    root = Path(__file__).resolve().parents[1]
    found = []
    for app in DOMAIN_APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Constant) and node.value in names:
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value!r}")
    assert "SBQOH" in names  # the layouts were read
    assert not found, "AS400 field names read outside integration.as400.records:\n" + "\n".join(found)


def test_domain_apps_lock_rows_only_through_their_locks_module() -> None:
    """Row locks live in ``<app>/locks.py``, which says the order they are taken in; a
    ``select_for_update`` anywhere else in a domain app fails here."""
    root = Path(__file__).resolve().parents[1]
    found = [
        f"{path.relative_to(root)}:{number}"
        for app in DOMAIN_APPS
        for path in sorted((root / app).rglob("*.py"))
        if path.name != "locks.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "select_for_update(" in line
    ]
    assert not found, "select_for_update outside a locks module:\n" + "\n".join(found)


# --- The ground's schema knows no domain app -------------------------------------------------


def domain_relations(models: list[type[Any]]) -> list[str]:
    """The relations (foreign keys, one-to-one, many-to-many) from these models to a domain app's."""
    return [
        f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}"
        for model in models
        for field in [*model._meta.fields, *model._meta.many_to_many]
        if field.is_relation
        and field.related_model is not None
        and field.related_model._meta.app_config.name in (*DOMAIN_APPS, "shopify_channel", "demo")
    ]


def ground_models() -> list[type[Any]]:
    from django.apps import apps

    return [
        model
        for config in apps.get_app_configs()
        if config.name == "integration" or config.name.startswith("integration.")
        for model in config.get_models()
    ]


def test_no_integration_model_has_a_relation_to_a_domain_app() -> None:
    """The outbox names what a message is about by an opaque ``subject``, not by a key to an order:
    ``integration`` depends on no domain app in its schema either (its migrations need none)."""
    models = ground_models()

    assert "integration.OutboxMessage" in {m._meta.label for m in models}
    assert domain_relations(models) == []


@isolate_apps("integration")
def test_a_relation_from_integration_to_a_domain_model_is_found() -> None:
    from django.db import models

    from orders.models import Order

    class Strayed(models.Model):
        order = models.ForeignKey(Order, on_delete=models.PROTECT)

        class Meta:
            app_label = "integration"

        def __str__(self) -> str:
            return str(self.pk)

    assert domain_relations([Strayed]) == ["integration.Strayed.order -> orders.Order"]
