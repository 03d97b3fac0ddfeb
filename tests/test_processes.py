"""The owner of the tests' processes (tests/processes.py): nothing it started outlives its test."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.processes import Owned, Processes, bounded_loop, group_alive, pid_alive, wait_until

# A shell that ignores SIGTERM, with a child that does too (an ignored signal stays ignored across
# exec): only SIGKILL ends them.
DEAF_TREE = ["bash", "-c", 'trap "" TERM; sleep 600 & wait']


def started_tree(owner: Processes) -> tuple[Owned, list[int]]:
    proc = owner.start(DEAF_TREE, label="deaf tree")
    wait_until("the shell and its child", lambda: len(group_alive(proc.pgid)) == 2)
    return proc, group_alive(proc.pgid)


def test_teardown_kills_a_tree_deaf_to_sigterm() -> None:
    with Processes(grace=0.2) as owner:
        proc, pids = started_tree(owner)
        assert proc.pid in pids

    assert group_alive(proc.pgid) == []
    assert [pid for pid in pids if pid_alive(pid)] == []
    assert proc.returncode == -signal.SIGKILL  # SIGTERM was not enough; reaped, no zombie left either


@pytest.mark.parametrize("raised", [AssertionError, KeyboardInterrupt])
def test_teardown_runs_when_the_test_fails_or_is_interrupted(raised: type[BaseException]) -> None:
    pids: list[int] = []

    def a_test_that_fails() -> None:
        with Processes(grace=0.2) as owner:
            _, tree = started_tree(owner)
            pids.extend(tree)
            raise raised("the test fails here")

    with pytest.raises(raised):
        a_test_that_fails()

    assert len(pids) == 2
    assert [pid for pid in pids if pid_alive(pid)] == []


def test_the_fixture_owns_what_is_started(processes: Processes) -> None:
    proc = processes.python("print('hello')")

    assert proc.wait() == 0
    assert processes.started == [proc]


def test_run_gives_the_output_and_leaves_nothing_behind() -> None:
    with Processes(grace=0.2) as owner:
        done = owner.run(
            ["bash", "-c", 'echo out; echo err >&2; (trap "" TERM; exec sleep 600 >/dev/null 2>&1) & exit 3']
        )
        [proc] = owner.started

        assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
        assert group_alive(proc.pgid) == []  # the background child went with it


def test_a_bounded_loop_stops_at_its_deadline(processes: Processes) -> None:
    loop = processes.python(bounded_loop("_time.sleep(0.01)", seconds=0.5))

    assert loop.wait(timeout=60) == 0


def test_a_bounded_loop_stops_when_its_parent_is_gone(processes: Processes, tmp_path: Path) -> None:
    # given a parent that starts a loop (its deadline far away) and is then SIGKILLed alone
    pid_file = tmp_path / "loop.pid"
    write_pid = f"open({str(pid_file)!r}, 'w').write(str(_os.getpid()))"
    parent = processes.python(
        "import subprocess, sys\n"
        "from tests.processes import bounded_loop\n"
        f"loop = bounded_loop('_time.sleep(0.01)', seconds=600, setup={write_pid!r})\n"
        "subprocess.run([sys.executable, '-c', loop])\n"
    )
    wait_until("the loop started", lambda: pid_file.exists() and pid_file.read_text() != "")
    looping = int(pid_file.read_text())
    assert pid_alive(looping)

    parent.signal_leader(signal.SIGKILL)
    parent.wait()

    wait_until("the orphaned loop to end", lambda: not pid_alive(looping))


def test_a_bounded_loop_whose_parent_died_before_it_started_does_not_start(processes: Processes) -> None:
    gone = processes.python("pass")
    gone.wait()

    loop = processes.python(bounded_loop("_time.sleep(0.01)", seconds=600, parent=gone.pid))

    assert loop.wait(timeout=60) == 0
