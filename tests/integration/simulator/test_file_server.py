"""bin/run's file server (integration/as400/simulator/file_server.py) without a server: what it
says when sshd is missing, and the env file bin/run sources. Serving is tested end to end in
tests/flows/test_bin_run_transports.py."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from integration.as400.simulator import file_server
from integration.as400.simulator.file_server import read_env, write_env
from tests.processes import Processes


def test_without_sshd_it_stops_at_once_saying_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(file_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(file_server, "SSHD_CANDIDATES", ())
    env_file = tmp_path / "as400-exchange.env"

    status = file_server.main(
        [
            "sftp",
            "--root",
            str(tmp_path / "exchange"),
            "--state",
            str(tmp_path / "state"),
            "--env-file",
            str(env_file),
        ]
    )

    assert status == 2
    assert "apt-get install openssh-server" in capsys.readouterr().err
    assert not env_file.exists()  # nothing for bin/run to take for a server's settings


def test_the_env_file_reads_back_in_the_shell_as_written(tmp_path: Path, processes: Processes) -> None:
    values = {
        "AS400_EXCHANGE_SSH_HOST_KEY": "ssh-ed25519 AAAAC3Nz key's comment",
        "AS400_EXCHANGE_PASSWORD": 'a$b`c"d e',
        "AS400_EXCHANGE_URL": "sftp://as400@127.0.0.1:2222/var/ex change",
    }
    env_file = tmp_path / "as400-exchange.env"

    write_env(env_file, values)

    assert read_env(env_file) == values
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600  # it holds the FTP password
    shown = processes.run(
        ["bash", "-c", f'. {env_file}; printf "%s\\n" "$AS400_EXCHANGE_SSH_HOST_KEY" "$AS400_EXCHANGE_PASSWORD"'],
        check=True,
    )  # fmt: skip
    assert shown.stdout.splitlines() == [
        values["AS400_EXCHANGE_SSH_HOST_KEY"],
        values["AS400_EXCHANGE_PASSWORD"],
    ]
