"""The thread-race harness: calls started together in threads, each on its own database connection.

``race(fn, args_list)`` runs ``fn(*args)`` for every ``args`` of ``args_list``, each in a thread of
its own. The threads wait for one another at a barrier and are released at once; each closes its
Django connections when its call ends (Django's connections are per thread: a call in a thread
opens its own), whatever the call did. The answer is one ``Outcome`` per call, in the order of
``args_list``: what the call returned, or the exception it raised.

A race that cannot start (a thread that does not reach the barrier in ``timeout`` seconds breaks
it: every call then ends with ``threading.BrokenBarrierError``) or does not end in ``timeout``
seconds fails the test, with an AssertionError naming the threads still running, instead of
hanging it.

The test says what a call's exception means to it: ``outcome.get()`` raises it again (the test
fails with its traceback), ``raised(outcomes)`` lists them, ``outcome.error`` is it or None.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.db import connections

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """One call's end: what it returned (``result``) or the exception it raised (``error``)."""

    result: T | None = None
    error: BaseException | None = None

    def get(self) -> T:
        """What the call returned; the exception it raised, raised again here."""
        if self.error is not None:
            raise self.error
        return cast(T, self.result)


def race(
    fn: Callable[..., T], args_list: Iterable[Sequence[Any]], *, timeout: float = 120.0
) -> list[Outcome[T]]:
    """``fn(*args)`` for each ``args``, in threads released together; the outcomes, in that order."""
    calls = [tuple(args) for args in args_list]
    if not calls:
        raise ValueError("a race needs at least one call")
    barrier = threading.Barrier(len(calls))
    outcomes: list[Outcome[T] | None] = [None] * len(calls)

    def run(index: int, args: tuple[Any, ...]) -> None:
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = Outcome(result=fn(*args))
        except BaseException as exc:  # the call's end, for the test to judge
            outcomes[index] = Outcome(error=exc)
        finally:
            connections.close_all()  # this thread's own connections

    threads = [
        threading.Thread(target=run, args=(index, args), name=f"race-{index}", daemon=True)
        for index, args in enumerate(calls)
    ]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    running = [thread.name for thread in threads if thread.is_alive()]
    if running:
        raise AssertionError(f"the race did not end in {timeout:g} s: {', '.join(running)} still running")
    return [cast(Outcome[T], outcome) for outcome in outcomes]


def raised(outcomes: Iterable[Outcome[Any]]) -> list[BaseException]:
    """The exceptions the calls raised, in the calls' order (empty when none did)."""
    return [outcome.error for outcome in outcomes if outcome.error is not None]
