"""A pyftpdlib FTP (or FTPS) server for the exchange adapters' tests, with faults on demand.

``python ftpd.py --port-file F --faults DIR [--cert PEM]``: serves the whole filesystem to the
user ``as400`` (password ``as400-secret``), writes its port to ``F`` once it listens. A fault is
armed by creating ``DIR/<fault>`` and fired (the file removed) by the next command it concerns:

- ``stor-full``: the next STOR is answered "452 Insufficient storage space" (a full disk);
- ``stor-drop``: the next STOR stores half its first block, then the connection is dropped;
- ``retr-drop``: the next RETR opens its transfer, then the connection is dropped;
- ``rnto-fail``: the next RNTO is answered "550 Rename refused";
- ``mlst-hold``: the next MLST is never answered (a server slow past any timeout).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.filesystems import AbstractedFS
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

FAULTS = Path(".")
USER, PASSWORD = "as400", "as400-secret"


def fire(fault: str) -> bool:
    """Whether ``fault`` is armed; it is disarmed as it fires."""
    try:
        (FAULTS / fault).unlink()
    except FileNotFoundError:
        return False
    return True


class _Dropping:
    """A file being transferred when the connection drops: half a block stored, or none sent."""

    def __init__(self, fh: Any, handler: FTPHandler) -> None:
        self._fh, self._handler, self._dropped = fh, handler, False
        self.name, self.closed = fh.name, False

    def _drop(self) -> None:
        self._dropped = True
        self._handler.close()  # the control connection and its data channel

    def read(self, size: int = -1) -> bytes:
        if self._dropped:
            return b""
        self._drop()  # the transfer has begun (150 sent, data connection open): it never ends
        return b""

    def write(self, data: bytes) -> int:
        if not self._dropped:
            self._fh.write(data[: len(data) // 2])
            self._drop()
        raise OSError("connection dropped by the fault")

    def close(self) -> None:
        self.closed = True
        self._fh.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


class FaultyFS(AbstractedFS):
    def open(self, filename: str, mode: str) -> Any:
        fh = super().open(filename, mode)
        if ("w" in mode and fire("stor-drop")) or ("r" in mode and fire("retr-drop")):
            return _Dropping(fh, self.cmd_channel)
        return fh


class FaultyHandler(FTPHandler):
    abstracted_fs = FaultyFS
    use_sendfile = False  # every RETR through the file object, where its fault is

    def ftp_STOR(self, file: str, mode: str = "w") -> Any:
        if fire("stor-full"):
            self.respond("452 Insufficient storage space.")
            return None
        return super().ftp_STOR(file, mode)

    def ftp_RNTO(self, path: str) -> Any:
        if fire("rnto-fail"):
            self._rnfr = None
            self.respond("550 Rename refused.")
            return None
        return super().ftp_RNTO(path)

    def ftp_MLST(self, path: str) -> Any:
        if fire("mlst-hold"):
            return None  # no answer, ever
        return super().ftp_MLST(path)


def main() -> None:
    global FAULTS
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--faults", type=Path, required=True)
    parser.add_argument("--cert", type=Path)
    args = parser.parse_args()
    FAULTS = args.faults
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, "/", perm="elradfmwMT")
    handler: type[FTPHandler] = FaultyHandler
    if args.cert is not None:
        from pyftpdlib.handlers import TLS_FTPHandler

        class FaultyTLSHandler(FaultyHandler, TLS_FTPHandler):  # type: ignore[misc]
            certfile = str(args.cert)
            tls_control_required = True
            tls_data_required = True

        handler = FaultyTLSHandler
    handler.authorizer = authorizer
    handler.passive_ports = None
    server = FTPServer(("127.0.0.1", 0), handler)
    port = server.socket.getsockname()[1]
    tmp = args.port_file.with_suffix(".tmp")
    tmp.write_text(str(port))
    os.replace(tmp, args.port_file)
    print(f"listening on {port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
