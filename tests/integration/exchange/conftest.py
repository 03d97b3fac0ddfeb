"""Every ExchangeFolder adapter available here, and the AS400's side of the folders.

The contract suite takes the ``exchange`` fixture and so runs once per adapter: local, and SFTP,
FTP and FTPS through real servers on loopback (sshd, pyftpdlib; tests/file_servers/), started once
per test module and serving the real filesystem. To add one, add a factory to ``ADAPTERS`` that
serves ``root`` through it: the tests put and inspect files as the AS400 does, directly in
``root``, and act only through the port.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from integration.as400.exchange import ExchangeFolder, Location
from integration.as400.exchange.ftp import FtpExchangeFolder, FtpsExchangeFolder
from integration.as400.exchange.local import LocalExchangeFolder
from integration.as400.exchange.sftp import SftpExchangeFolder
from integration.as400.files import PairName
from tests.file_servers import FtpServer, SshServer, start_ftpd, start_sshd
from tests.processes import Processes

CCSID = 297


def sftp_folder(server: SshServer, root: Path, ccsid: int = CCSID, **options: object) -> SftpExchangeFolder:
    """The SFTP adapter on the test's sshd, its host key pinned, logging in by key."""
    kwargs: dict[str, object] = {
        "host": "127.0.0.1", "port": server.port, "user": server.user, "host_key": server.host_key,
        "key_file": server.client_key, "timeout": 30.0, **options,
    }  # fmt: skip
    return SftpExchangeFolder(str(root), ccsid, **kwargs)  # type: ignore[arg-type]


def ftp_folder(server: FtpServer, root: Path, ccsid: int = CCSID, **options: object) -> FtpExchangeFolder:
    """The FTP adapter on the test's pyftpdlib, FTPS (the certificate checked) when it has TLS."""
    cls = FtpsExchangeFolder if server.ca_file is not None else FtpExchangeFolder
    kwargs: dict[str, object] = {
        "host": "127.0.0.1", "port": server.port, "user": server.user, "password": server.password,
        "ca_file": server.ca_file, "timeout": 30.0, **options,
    }  # fmt: skip
    return cls(str(root), ccsid, **kwargs)  # type: ignore[arg-type]


#: adapter name → factory(request, root, ccsid). Add an adapter here and it runs the whole contract suite.
ADAPTERS: dict[str, Callable[[pytest.FixtureRequest, Path, int], ExchangeFolder]] = {
    "local": lambda request, root, ccsid: LocalExchangeFolder(root, ccsid),
    "sftp": lambda request, root, ccsid: sftp_folder(request.getfixturevalue("module_sshd"), root, ccsid),
    "ftp": lambda request, root, ccsid: ftp_folder(request.getfixturevalue("module_ftpd"), root, ccsid),
    "ftps": lambda request, root, ccsid: ftp_folder(request.getfixturevalue("module_ftpsd"), root, ccsid),
}


@pytest.fixture(scope="module")
def module_processes() -> Iterator[Processes]:
    """The servers shared by a module's tests, owned and ended like the ``processes`` fixture's."""
    with Processes() as owner:
        yield owner


@pytest.fixture(scope="module")
def module_sshd(module_processes: Processes, tmp_path_factory: pytest.TempPathFactory) -> SshServer:
    return start_sshd(module_processes, tmp_path_factory.mktemp("sshd"))


@pytest.fixture(scope="module")
def module_ftpd(module_processes: Processes, tmp_path_factory: pytest.TempPathFactory) -> FtpServer:
    return start_ftpd(module_processes, tmp_path_factory.mktemp("ftpd"), tls=False)


@pytest.fixture(scope="module")
def module_ftpsd(module_processes: Processes, tmp_path_factory: pytest.TempPathFactory) -> FtpServer:
    return start_ftpd(module_processes, tmp_path_factory.mktemp("ftpsd"), tls=True)


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
def exchange(request: pytest.FixtureRequest, exchange_dir: Path) -> Iterator[Exchange]:
    with ADAPTERS[request.param](request, exchange_dir, CCSID) as folder:
        yield Exchange(folder=folder, root=exchange_dir)
