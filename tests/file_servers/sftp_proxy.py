"""OpenSSH's sftp-server behind a relay that injects faults: the SFTP subsystem of the tests' sshd.

sshd runs ``python sftp_proxy.py FAULTS_DIR SFTP_SERVER`` for each SFTP session; it starts the real
``sftp-server`` and relays every packet both ways, unchanged, until a fault armed by a file
``FAULTS_DIR/<fault>`` fires (the file is removed as it fires):

- ``write-drop``: at the next WRITE, the session ends (the connection drops mid-transfer);
- ``read-drop``: after the first DATA sent back to a READ, the session ends;
- ``write-full``: the WRITEs of the next file written are answered "No space left on device";
- ``rename-fail``: the next rename (posix-rename or RENAME) is answered "Permission denied";
- ``hold``: the next request is never answered (a server slow past any timeout);
- ``no-posix-rename`` (kept, not removed): posix-rename@openssh.com is answered "unsupported".
"""

from __future__ import annotations

import os
import select
import struct
import subprocess
import sys
from pathlib import Path

CLOSE, WRITE, READ, RENAME, EXTENDED = 4, 6, 5, 18, 200
STATUS, DATA = 101, 103
FAILURE, PERMISSION_DENIED, OP_UNSUPPORTED = 4, 3, 8
FAULTS = Path(sys.argv[1])


def fire(fault: str, *, keep: bool = False) -> bool:
    path = FAULTS / fault
    if keep:
        return path.exists()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def string(payload: bytes, at: int) -> tuple[bytes, int]:
    (n,) = struct.unpack(">I", payload[at : at + 4])
    return payload[at + 4 : at + 4 + n], at + 4 + n


def status(request_id: bytes, code: int, message: str) -> bytes:
    text = message.encode()
    body = bytes([STATUS]) + request_id + struct.pack(">I", code)
    body += struct.pack(">I", len(text)) + text + struct.pack(">I", 0)
    return struct.pack(">I", len(body)) + body


def packets(buffer: bytearray) -> list[bytes]:
    """Whole packets (length included) taken off the front of ``buffer``."""
    out = []
    while len(buffer) >= 4:
        (n,) = struct.unpack(">I", buffer[:4])
        if len(buffer) < 4 + n:
            break
        out.append(bytes(buffer[: 4 + n]))
        del buffer[: 4 + n]
    return out


def write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def main() -> None:
    server = subprocess.Popen([sys.argv[2]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    assert server.stdin is not None
    assert server.stdout is not None
    to_server, from_server = server.stdin.fileno(), server.stdout.fileno()
    from_client, to_client = sys.stdin.fileno(), sys.stdout.fileno()
    upstream, downstream = bytearray(), bytearray()
    failing_handle: bytes | None = None
    reading = False
    while True:
        ready, _, _ = select.select([from_client, from_server], [], [])
        if from_client in ready:
            chunk = os.read(from_client, 65536)
            if not chunk:
                break
            upstream += chunk
            for packet in packets(upstream):
                kind, request_id = packet[4], packet[5:9]
                if kind == CLOSE and failing_handle is not None and string(packet, 9)[0] == failing_handle:
                    failing_handle = None  # the server gives the handle again to the next file
                if kind == WRITE:
                    handle, _ = string(packet, 9)
                    if failing_handle is None and fire("write-full"):
                        failing_handle = handle
                    if handle == failing_handle:
                        write_all(to_client, status(request_id, FAILURE, "No space left on device"))
                        continue
                    if fire("write-drop"):
                        os._exit(0)  # the file is open on the server, its data never comes
                elif kind == READ:
                    reading = fire("read-drop") or reading
                elif kind in (RENAME, EXTENDED):
                    name = string(packet, 9)[0] if kind == EXTENDED else b"rename"
                    if name in (b"posix-rename@openssh.com", b"rename"):
                        if kind == EXTENDED and fire("no-posix-rename", keep=True):
                            write_all(to_client, status(request_id, OP_UNSUPPORTED, "Operation unsupported"))
                            continue
                        if fire("rename-fail"):
                            write_all(to_client, status(request_id, PERMISSION_DENIED, "Permission denied"))
                            continue
                if kind != 1 and fire("hold"):
                    continue  # never answered
                write_all(to_server, packet)
        if from_server in ready:
            chunk = os.read(from_server, 65536)
            if not chunk:
                break
            downstream += chunk
            for packet in packets(downstream):
                write_all(to_client, packet)
                if reading and packet[4] == DATA:
                    os._exit(0)
    server.terminate()


if __name__ == "__main__":
    main()
