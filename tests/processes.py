"""Processes started by tests: each owned, bounded in time, and gone when its test ends.

The rules every test of this suite follows:

1. A test that starts a process starts it through :class:`Processes` (the ``processes`` fixture of
   tests/conftest.py), never with a bare ``Popen``, ``subprocess.run`` of a Python or
   ``manage.py`` command, or ``multiprocessing``. The process is started in a process group of its
   own (``start_new_session=True``), so that its children (a cluster's workers, a server's
   workers, a shell's background jobs) go with it. When the test ends, passed, failed or
   interrupted (Ctrl-C, a pytest-timeout), every group still running gets SIGTERM, a short grace,
   then SIGKILL, and is waited for until no process of it is left. Processes still owned when the
   interpreter exits are killed as well (atexit).
2. A loop started for a test is bounded: it stops by itself after a deadline and as soon as the
   process that started it is gone (:func:`bounded_loop`). It can never spin on as an orphan.
3. A test does not depend on the machine's speed. It waits for the event it needs (polling a
   condition, :func:`wait_until`, or a ``threading.Event``) within a generous bound (30 to 60 s,
   more for the heavy tests), never for a fixed time; it asserts no upper bound on a duration
   (a busy machine makes anything slow). A lower bound that the code under test guarantees by
   itself (it waited out the configured wait before failing) does not depend on speed and may
   be asserted. A timeout the code under test must *not* hit is set generously; a timeout it
   must hit is made certain by an event (a server that holds its answer until released), not by
   a race between two durations.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

GRACE_SECONDS = 5.0  # after SIGTERM, before SIGKILL
REAP_SECONDS = 30.0  # after SIGKILL, for the last process of a group to be gone (one in fsync ends it first)
BASE_DIR = Path(__file__).resolve().parents[1]
MANAGE = BASE_DIR / "manage.py"

_owned: set[Owned] = set()  # every group still running, for the atexit net


def group_alive(pgid: int) -> list[int]:
    """The processes of a process group that are not dead yet (zombies are dead)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            alive.append(int(stat.parent.name))
    return alive


def pid_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until(what: str, done: Callable[[], bool], *, timeout: float = 60.0, every: float = 0.02) -> None:
    """Poll until ``done()``; past ``timeout`` (a generous bound, not a duration under test), fail."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:g} s still waiting for {what}")
        time.sleep(every)


def bounded_loop(body: str, *, seconds: float, setup: str = "", parent: int | None = None) -> str:
    """Python code running ``body`` over and over, for ``python -c`` or ``manage.py shell -c``.

    It stops by itself after ``seconds``, and as soon as its parent is gone (the test process
    killed or crashed: the loop is then an orphan, its parent pid changes), whichever comes first.
    The parent is the process that calls this function (it starts the loop), or ``parent``: fixed
    here, not read by the loop when it starts, which may be after its parent already died.
    """
    lines = [
        "import os as _os, time as _time",
        *setup.splitlines(),
        f"_parent, _deadline = {parent or os.getpid()}, _time.monotonic() + {float(seconds)!r}",
        "while _os.getppid() == _parent and _time.monotonic() < _deadline:",
        *("    " + line for line in body.splitlines()),
    ]
    return "\n".join(lines) + "\n"


class Owned:
    """One process started in a process group of its own (its pid is the group's id)."""

    def __init__(self, popen: subprocess.Popen[Any], label: str, log: Path | None) -> None:
        self.popen, self.label, self.log = popen, label, log
        self.pid = self.pgid = popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float = 60.0) -> int:
        """The exit status, within ``timeout`` (a generous bound); the group is not touched."""
        return self.popen.wait(timeout=timeout)

    def alive(self) -> list[int]:
        """The group's processes not dead yet (the leader included until it is reaped)."""
        return group_alive(self.pgid)

    def signal_leader(self, sig: int = signal.SIGTERM) -> None:
        """A signal to the leader only (a cluster's sentinel, which stops its workers in order)."""
        if self.popen.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(sig)

    def signal_group(self, sig: int = signal.SIGKILL) -> None:
        """A signal to every process of the group, not waited for.

        Once the leader is reaped and the group empty, its id may be another process's: no signal then.
        """
        if self.popen.returncode is not None and not self.alive():
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)

    def reap(self, timeout: float = REAP_SECONDS) -> None:
        """Wait for the leader, then until no process of the group is left."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=timeout)
        while self.alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.label}: {self.alive()} still alive after SIGKILL")
            time.sleep(0.01)
        _owned.discard(self)

    def kill(self) -> None:
        """SIGKILL to the group, then reap it."""
        self.signal_group(signal.SIGKILL)
        self.reap()

    def stop(self, grace: float = GRACE_SECONDS, *, whole_group: bool = True) -> None:
        """SIGTERM to the group, ``grace`` seconds for it to end, then SIGKILL to what is left.

        ``whole_group=False``: SIGTERM to the leader only, which stops its children in its own way
        (a cluster's sentinel), and SIGKILL to the group once the leader has ended or the grace is
        over. Whatever happens meanwhile (a second Ctrl-C included), the group is SIGKILLed and reaped.
        """
        try:
            if whole_group:
                self.signal_group(signal.SIGTERM)
            else:
                self.signal_leader(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                leader_done = self.popen.poll() is not None  # reaped as soon as it ends
                if (leader_done and not whole_group) or not self.alive():
                    break
                time.sleep(0.01)
        finally:
            self.kill()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log is not None and self.log.exists() else ""


class Processes:
    """Starts processes for a test and owns them: :meth:`close` (the fixture's teardown) ends them all."""

    def __init__(self, grace: float = GRACE_SECONDS) -> None:
        self.grace = grace
        self.started: list[Owned] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(
        self,
        args: Sequence[str | os.PathLike[str]],
        *,
        label: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = BASE_DIR,
        log: Path | None = None,
    ) -> Owned:
        """``args`` in a process group of its own; stdout and stderr to ``log`` (or nowhere)."""
        out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115 (the child holds it)
        try:
            popen = subprocess.Popen(
                [os.fspath(a) for a in args],
                env=dict(env) if env is not None else None, cwd=cwd,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: one killpg takes it and its children
            )  # fmt: skip
        finally:
            if not isinstance(out, int):
                out.close()
        owned = Owned(popen, label or os.path.basename(os.fspath(args[0])), log)
        self.started.append(owned)
        _owned.add(owned)
        return owned

    def python(
        self,
        code: str,
        *,
        label: str = "python",
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
    ) -> Owned:
        """``python -c code`` with the tests' own interpreter."""
        return self.start([sys.executable, "-c", code], label=label, env=env, log=log)

    def manage(
        self,
        *args: str,
        label: str | None = None,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
    ) -> Owned:
        """``manage.py args...`` with the tests' own interpreter."""
        return self.start(
            [sys.executable, MANAGE, *args], label=label or f"manage.py {args[0]}", env=env, log=log
        )

    def run(
        self,
        args: Sequence[str | os.PathLike[str]],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = BASE_DIR,
        timeout: float = 120.0,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """A command run to its end (``subprocess.run(capture_output=True, text=True)``), owned the
        same way: past ``timeout`` (a generous bound) or on any exception, its group is ended."""
        popen = subprocess.Popen(
            [os.fspath(a) for a in args],
            env=dict(env) if env is not None else None, cwd=cwd, text=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        owned = Owned(popen, os.path.basename(os.fspath(args[0])), None)
        self.started.append(owned)
        _owned.add(owned)
        try:
            stdout, stderr = popen.communicate(timeout=timeout)
        finally:
            owned.stop(self.grace)  # its children too, and at once if it already ended
        done = subprocess.CompletedProcess(popen.args, popen.returncode, stdout, stderr)
        if check:
            done.check_returncode()
        return done

    def close(self) -> None:
        """Every group still running: SIGTERM, the grace period, SIGKILL, reaped. Idempotent."""
        running = [owned for owned in self.started if owned in _owned]
        try:
            for owned in running:
                owned.signal_group(signal.SIGTERM)
            deadline = time.monotonic() + self.grace
            while time.monotonic() < deadline and any(owned.alive() for owned in running):
                for owned in running:
                    owned.popen.poll()
                time.sleep(0.01)
        finally:
            for owned in running:
                owned.signal_group(signal.SIGKILL)
            errors: list[AssertionError] = []
            for owned in running:
                try:
                    owned.reap()
                except AssertionError as exc:
                    errors.append(exc)
            if errors:
                raise errors[0]


@atexit.register
def _kill_what_is_left() -> None:
    """The net under the fixture: groups still owned when the interpreter exits are SIGKILLed."""
    for owned in list(_owned):
        owned.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            owned.popen.wait(timeout=5)
