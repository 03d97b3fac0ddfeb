"""What a log line is about: the order, the file and the task being worked on, as context variables.

The code that works on an order, a file or a task says so once (``with log_context(order_number=...)``)
and every line logged inside, by any module, carries it: :class:`LogContextFilter` (installed on
the console handler by ``config/settings.py``) copies the values onto each record, and the JSON
formatter (``LOG_FORMAT=json``) writes them as the fields ``order_number``, ``file_name`` and
``task``. Context variables, not thread-locals or globals: each thread and each asyncio task sees
its own, and leaving the block puts back what was there before (a file's run inside a task).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar, Token

#: The record attributes (and JSON fields) this context sets, each with its variable.
FIELDS: dict[str, ContextVar[str | None]] = {
    "order_number": ContextVar("log_order_number", default=None),
    "file_name": ContextVar("log_file_name", default=None),
    "task": ContextVar("log_task", default=None),
}


@contextlib.contextmanager
def log_context(
    *, order_number: str | None = None, file_name: str | None = None, task: str | None = None
) -> Iterator[None]:
    """Within the block, log lines carry the values given (the others stay as they were)."""
    given = {"order_number": order_number, "file_name": file_name, "task": task}
    tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = []
    for name, value in given.items():
        if value is not None:
            var = FIELDS[name]
            tokens.append((var, var.set(str(value))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def log_task_set(task: str | None) -> None:
    """The task a worker process starts (``None`` when it is done): set by django-q2's signals."""
    FIELDS["task"].set(task)


class LogContextFilter(logging.Filter):
    """Copies the context onto each record, unless the call gave the attribute itself (``extra=``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in FIELDS.items():
            value = var.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True
