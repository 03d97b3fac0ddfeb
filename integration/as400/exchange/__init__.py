"""The AS400's exchange folders: the port and its adapters, chosen by settings.

``get_exchange_folder()`` returns the :class:`ExchangeFolder` that ``AS400_EXCHANGE_BACKEND``
names: ``"local"`` (a directory, or a mounted IFS share), or the dotted path of a subclass (an
SFTP adapter, say). The adapter's module is imported only when it is chosen, so that its
dependencies are needed only where it is used (django-q2's broker pattern).
"""

from __future__ import annotations

import inspect
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from integration.as400.exchange.base import (
    IN_FILES,
    OUT_FILES,
    ExchangeError,
    ExchangeFile,
    ExchangeFolder,
    ExchangeUnavailable,
    ExchangeUnreachable,
    FileInfo,
    FolderListing,
    Location,
    LoosePart,
    MoveFailed,
    PairExists,
    PairNotFound,
    PairRefused,
    RefusalKind,
    SentState,
    TransferRefused,
    VerifiedPair,
)

__all__ = [
    "BACKENDS",
    "IN_FILES",
    "OUT_FILES",
    "ExchangeError",
    "ExchangeFile",
    "ExchangeFolder",
    "ExchangeUnavailable",
    "ExchangeUnreachable",
    "FileInfo",
    "FolderListing",
    "Location",
    "LoosePart",
    "MoveFailed",
    "PairExists",
    "PairNotFound",
    "PairRefused",
    "RefusalKind",
    "SentState",
    "TransferRefused",
    "VerifiedPair",
    "exchange_folder_class",
    "get_exchange_folder",
]

#: Short names of the adapters that ship with the project.
BACKENDS = {
    "local": "integration.as400.exchange.local.LocalExchangeFolder",
    # The AS400's IFS through its OpenSSH (AS400_EXCHANGE_URL sftp://...) or its FTP server.
    "sftp": "integration.as400.exchange.sftp.SftpExchangeFolder",
    "ftp": "integration.as400.exchange.ftp.FtpExchangeFolder",
    "ftps": "integration.as400.exchange.ftp.FtpsExchangeFolder",
    # bin/run's: the local folders the simulator writes, with its (fast) clock as the AS400's.
    "simulator": "integration.as400.simulator.exchange.SimulatorExchangeFolder",
    # bin/run's with AS400_EXCHANGE_BACKEND=sftp (ftp, ftps): the same folders through a file server
    # on loopback (integration/as400/simulator/file_server.py), the simulator's clock still the AS400's.
    "simulator-sftp": "integration.as400.simulator.exchange.SimulatorSftpExchangeFolder",
    "simulator-ftp": "integration.as400.simulator.exchange.SimulatorFtpExchangeFolder",
    "simulator-ftps": "integration.as400.simulator.exchange.SimulatorFtpsExchangeFolder",
}


def exchange_folder_class(backend: str) -> type[ExchangeFolder]:
    """The adapter class for a backend name or dotted path; ImproperlyConfigured if none fits."""
    dotted = BACKENDS.get(backend, backend)
    if "." not in dotted:
        raise ImproperlyConfigured(
            f"AS400_EXCHANGE_BACKEND is {backend!r}: expected one of {', '.join(sorted(BACKENDS))} "
            "or the dotted path of an ExchangeFolder subclass"
        )
    try:
        cls = import_string(dotted)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"AS400_EXCHANGE_BACKEND is {backend!r}, which cannot be imported: {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, ExchangeFolder)) or inspect.isabstract(cls):
        raise ImproperlyConfigured(
            f"AS400_EXCHANGE_BACKEND is {backend!r}, which is not a concrete ExchangeFolder subclass"
        )
    return cls


def get_exchange_folder(root: Path | str | None = None) -> ExchangeFolder:
    """The exchange folder the settings choose, at ``root`` or ``settings.AS400_EXCHANGE_DIR``."""
    return exchange_folder_class(str(settings.AS400_EXCHANGE_BACKEND)).from_settings(root)
