"""Logs as JSON lines (``LOG_FORMAT=json``) carrying the order, the file and the task they are about.

The handler is built from the settings' own ``LOGGING`` entries (the JSON formatter, the context
filter); the lines come from the real code paths: a checkout, the dispatcher writing an ORDIMP
file inside a django-q2 task (run by django-q2's own worker code, ``sync=True``).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.utils.module_loading import import_string
from django_q.tasks import async_task

from integration.as400.simulator.engine import Simulator
from integration.core.log_context import LogContextFilter, log_context
from tests.factories.orders import place, warehouse_items


class JsonLines:
    """A handler on the root logger formatting as the settings' ``json`` formatter does."""

    def __init__(self) -> None:
        conf = dict(settings.LOGGING["formatters"]["json"])
        formatter = import_string(conf.pop("()"))(**conf)
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(formatter)
        self.handler.addFilter(LogContextFilter())

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def json_lines() -> Iterator[JsonLines]:
    found = JsonLines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(found.handler)
    root.setLevel(logging.INFO)
    try:
        yield found
    finally:
        root.removeHandler(found.handler)
        root.setLevel(level)


def test_lines_carry_the_context_they_were_logged_in_and_nothing_outside_it(json_lines: JsonLines) -> None:
    log = logging.getLogger("tests.json")
    with log_context(task="integration.tasks.as400_sync"):
        with log_context(file_name="STKBAL_000042"):
            log.info("applying")
            with log_context(order_number="WEB-000007"):
                log.warning("refused: %s", "R01")
        log.info("done")
    log.info("outside")

    lines = json_lines.lines()
    assert [(line["message"], line["level"], line["logger"]) for line in lines] == [
        ("applying", "INFO", "tests.json"), ("refused: R01", "WARNING", "tests.json"),
        ("done", "INFO", "tests.json"), ("outside", "INFO", "tests.json"),
    ]  # fmt: skip
    context = [{k: line.get(k) for k in ("order_number", "file_name", "task")} for line in lines]
    assert context == [
        {"order_number": None, "file_name": "STKBAL_000042", "task": "integration.tasks.as400_sync"},
        {"order_number": "WEB-000007", "file_name": "STKBAL_000042", "task": "integration.tasks.as400_sync"},
        {"order_number": None, "file_name": None, "task": "integration.tasks.as400_sync"},
        {"order_number": None, "file_name": None, "task": None},
    ]
    assert all({"time", "pid"} <= set(line) for line in lines)


def test_the_json_format_is_chosen_by_log_format() -> None:
    handler = settings.LOGGING["handlers"]["console"]
    assert handler["formatter"] == settings.LOG_FORMAT  # plain here; LOG_FORMAT=json in production
    assert handler["filters"] == ["log_context"]
    assert settings.LOGGING["formatters"]["json"]["()"] == "pythonjsonlogger.json.JsonFormatter"


@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_in_a_task_logs_its_file_and_its_task(
    simulator: Simulator, settings: Any, json_lines: JsonLines
) -> None:
    settings.AS400_BATCH_WINDOW = "00:00-00:00"  # the real clock: any hour
    product = warehouse_items(1)[0]
    place(1, product)

    async_task("integration.tasks.outbox_dispatch", sync=True)

    written = [line for line in json_lines.lines() if line["message"].startswith("ORDIMP_")]
    assert [(line["message"], line["file_name"], line["task"]) for line in written] == [
        ("ORDIMP_000001 written: 2 records", "ORDIMP_000001", "integration.tasks.outbox_dispatch")
    ]
    after = logging.LogRecord("x", logging.INFO, __file__, 1, "after", None, None)
    LogContextFilter().filter(after)
    assert not hasattr(after, "task")  # the worker's signal put it back when the task ended
