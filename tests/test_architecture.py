"""The directions between the apps hold: the import contracts of pyproject.toml ([tool.importlinter]).

``integration`` imports no domain app, and the domain apps depend one way (demo → reconciliation →
returns → orders → inventory → integration). docs/ARCHITECTURE.md draws the same picture.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = ["config", "integration", "inventory", "orders", "returns", "reconciliation", "demo"]


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
    # given the same contracts over a tree of the same apps, where integration imports orders and
    # inventory imports returns
    for app in APPS:
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    (tmp_path / "integration" / "sync.py").write_text("from orders import lifecycle\n")
    (tmp_path / "orders" / "lifecycle.py").write_text("")
    (tmp_path / "inventory" / "services.py").write_text("import returns.receipts\n")
    (tmp_path / "returns" / "receipts.py").write_text("")
    config = tmp_path / "pyproject.toml"
    config.write_text((ROOT / "pyproject.toml").read_text())

    # when the contracts are checked
    result = lint_imports(tmp_path, config)

    # then both are broken, naming the imports
    assert result.returncode == 1, result.stdout + result.stderr
    assert "integration is the ground: it imports no domain app BROKEN" in result.stdout
    assert "domain apps depend one way" in result.stdout
    assert "2 broken" in result.stdout
    assert "integration.sync -> orders.lifecycle" in result.stdout
    assert "inventory.services -> returns.receipts" in result.stdout
