"""Choosing the exchange folder's adapter by settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django import Settings

from integration.as400.exchange import ExchangeFolder, get_exchange_folder
from integration.as400.exchange.local import LocalExchangeFolder
from integration.as400.exchange.remote import RemoteExchangeFolder
from integration.as400.simulator import Simulator
from integration.core.admin_formats import as400_time
from tests.moments import TUESDAY


def test_local_is_rooted_at_the_exchange_dir_in_the_sites_ccsid(
    exchange_dir: Path, settings: Settings
) -> None:
    # given
    settings.AS400_EXCHANGE_BACKEND = "local"
    settings.AS400_CCSID = 1147

    # when
    folder = get_exchange_folder()

    # then
    assert isinstance(folder, LocalExchangeFolder)
    assert folder.root == exchange_dir
    assert folder.ccsid == 1147


def test_a_dotted_path_names_the_class_and_a_root_overrides_the_setting(
    exchange_dir: Path, tmp_path: Path, settings: Settings
) -> None:
    settings.AS400_EXCHANGE_BACKEND = "integration.as400.exchange.local.LocalExchangeFolder"

    folder = get_exchange_folder(tmp_path / "elsewhere")

    assert isinstance(folder, LocalExchangeFolder)
    assert folder.root == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        (
            "webdav",
            "AS400_EXCHANGE_BACKEND is 'webdav': expected one of ftp, ftps, local, sftp, simulator, simulator-ftp, simulator-ftps, simulator-sftp or the dotted path",
        ),
        (
            "integration.as400.exchange.nowhere.Folder",
            "'integration.as400.exchange.nowhere.Folder', which cannot be imported",
        ),
        ("pathlib.Path", "'pathlib.Path', which is not a concrete ExchangeFolder subclass"),
        ("integration.as400.exchange.base.ExchangeFolder", "which is not a concrete ExchangeFolder subclass"),
    ],
)
def test_a_backend_that_does_not_fit_is_a_configuration_error(
    exchange_dir: Path, settings: Settings, backend: str, message: str
) -> None:
    settings.AS400_EXCHANGE_BACKEND = backend

    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(".", r"\.")):
        get_exchange_folder()


def test_the_port_cannot_be_used_without_an_adapter() -> None:
    with pytest.raises(TypeError):
        ExchangeFolder(297)  # type: ignore[abstract]


@pytest.mark.clock(TUESDAY)
@pytest.mark.parametrize(
    ("backend", "url"),
    [("simulator-sftp", "sftp://as400@127.0.0.1:2222/exchange"), ("simulator-ftp", "ftp://as400@127.0.0.1:2121/"),
     ("simulator-ftps", "ftps://as400@127.0.0.1:2121/")],
)  # fmt: skip
def test_bin_runs_transports_judge_the_files_by_the_simulators_clock(
    exchange_dir: Path, tmp_path: Path, settings: Settings, english: None, backend: str, url: str
) -> None:
    ahead = TUESDAY + timedelta(days=2, hours=3)  # a simulator run fast (bin/run: x60)
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    Simulator.from_settings(start=ahead).close()
    settings.AS400_EXCHANGE_BACKEND, settings.AS400_EXCHANGE_URL = backend, url
    settings.AS400_EXCHANGE_SSH_HOST_KEY = "SHA256:" + "A" * 43
    settings.AS400_EXCHANGE_SSH_KEY_FILE = str(tmp_path / "client_key")
    settings.AS400_EXCHANGE_PASSWORD = "secret"

    folder = get_exchange_folder()  # no connection yet: the clock is read from the simulator's file

    assert isinstance(folder, RemoteExchangeFolder)
    assert folder.where.startswith(url.split("@")[0].replace("as400", "127.0.0.1:"))  # its own adapter
    assert folder.as400_clock(datetime.now(UTC)) == ahead
    assert "(simulator clock)" in as400_time(ahead)
