"""Every ExchangeFolder adapter available here, and the AS400's side of the folders.

The contract suite takes the ``exchange`` fixture and so runs once per adapter. To add one (SFTP,
say), add a factory to ``ADAPTERS`` that serves ``root`` through it: the tests put and inspect
files as the AS400 does, directly in ``root``, and act only through the port.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from integration.as400.exchange import ExchangeFolder, Location
from integration.as400.exchange.local import LocalExchangeFolder
from integration.as400.files import PairName

CCSID = 297

#: adapter name → factory(root, ccsid). Add an adapter here and it runs the whole contract suite.
ADAPTERS: dict[str, Callable[[Path, int], ExchangeFolder]] = {
    "local": lambda root, ccsid: LocalExchangeFolder(root, ccsid),
}


@dataclass(frozen=True)
class Exchange:
    """An adapter under test, and the directory where its files really are (the AS400's view)."""

    folder: ExchangeFolder
    root: Path

    def path(self, location: Location | str, filename: str = "") -> Path:
        return self.root / Location(location).value / filename

    def put(self, location: Location | str, filename: str, data: bytes) -> None:
        """A file as the AS400 (or a careless person) leaves it."""
        path = self.path(location, filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def put_pair(self, location: Location | str, name: PairName, dat: bytes, ok: bytes) -> None:
        self.put(location, name.dat, dat)
        self.put(location, name.ok, ok)

    def move(self, source: Location | str, target: Location | str, filename: str) -> None:
        """What the AS400 does with what it read from IN/."""
        os.replace(self.path(source, filename), self.path(target, filename))

    def files(self, location: Location | str) -> set[str]:
        """Every name in a folder, files only."""
        folder = self.path(location)
        return {p.name for p in folder.iterdir() if p.is_file()} if folder.exists() else set()

    def everything(self) -> dict[str, bytes]:
        """Every file under the root and its bytes: to check that an operation changed nothing."""
        return {str(p.relative_to(self.root)): p.read_bytes() for p in self.root.rglob("*") if p.is_file()}


@pytest.fixture(params=sorted(ADAPTERS))
def exchange(request: pytest.FixtureRequest, exchange_dir: Path) -> Exchange:
    return Exchange(folder=ADAPTERS[request.param](exchange_dir, CCSID), root=exchange_dir)
