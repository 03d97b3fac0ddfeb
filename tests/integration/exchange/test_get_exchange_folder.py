"""Choosing the exchange folder's adapter by settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django import Settings

from integration.as400.exchange import ExchangeFolder, get_exchange_folder
from integration.as400.exchange.local import LocalExchangeFolder


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
        ("webdav", "AS400_EXCHANGE_BACKEND is 'webdav': expected one of ftp, ftps, local, sftp, simulator, simulator-ftp, simulator-ftps, simulator-sftp or the dotted path"),
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
