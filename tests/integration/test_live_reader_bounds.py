"""How the ``legacy`` live reader bounds its statements on each database, and how it reads DB2's
failures. No DB2 runs here: the ibm_db calls that set ``SQL_ATTR_QUERY_TIMEOUT`` are not tested
(see ``integration.as400.live.legacy``); the choice, the rounding and DB2's messages are.

DB2's messages are as ibm_db raises them: its prefix ("Statement Execute Failed: "), the CLI's text
with DB2's message id and SQLSTATE, then ``SQLCODE=<code>`` (ibm_db.c), for the message ids of IBM's
reference (SQL0952 "processing was cancelled due to an interrupt", which a query timeout raises;
SQL0666 "SQL query exceeds specified time limit or storage limit"; SQL0913 "row or object in use";
SQL30081 a communication error; SQL0204 an undefined name).
"""

from __future__ import annotations

import pytest

from integration.as400.live.base import failure_kind
from integration.as400.live.legacy import StatementBound, statement_bound


@pytest.mark.parametrize(
    ("vendor", "timeout", "bound"),
    [
        ("postgresql", 2.0, StatementBound("statement_timeout", 2000)),
        ("postgresql", 0.25, StatementBound("statement_timeout", 250)),
        ("postgresql", 0.0004, StatementBound("statement_timeout", 1)),  # never 0: no limit
        ("DB2", 2.0, StatementBound("query_timeout", 2)),
        ("DB2", 2.9, StatementBound("query_timeout", 2)),  # whole seconds, never longer than the read
        ("DB2", 0.25, StatementBound("query_timeout", 1)),  # never 0: no limit
        ("DB2", 0.0, StatementBound("query_timeout", 1)),
        ("sqlite", 2.0, None),
        ("db2", 2.0, None),  # ibm-db-django's vendor is "DB2", as Django compares it
    ],
)
def test_each_database_bounds_its_statements_its_own_way(
    vendor: str, timeout: float, bound: StatementBound | None
) -> None:
    assert statement_bound(vendor, timeout) == bound


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (
            "Statement Execute Failed: [IBM][CLI Driver][AS] SQL0952N  Processing was cancelled due to an "
            "interrupt.  SQLSTATE=57014 SQLCODE=-952",
            "timeout",
        ),
        ("Statement Execute Failed: [IBM][CLI Driver][AS] SQLSTATE=57014 SQLCODE=-952", "timeout"),
        (
            "Statement Execute Failed: [IBM][CLI Driver][AS] SQL0666N  SQL query exceeds specified time limit "
            "or storage limit.  SQLSTATE=57005 SQLCODE=-666",
            "timeout",
        ),
        ("SQL0666 SQL query exceeds specified time limit or storage limit.", "timeout"),
        (
            "Statement Execute Failed: [IBM][CLI Driver][AS] SQL0913N  Row or object STKBAL in ERPLIB type "
            "*FILE in use.  SQLSTATE=57033 SQLCODE=-913",
            "object_in_use",
        ),
        (
            "[IBM][CLI Driver] SQL30081N  A communication error has been detected. Communication protocol "
            'being used: "TCP/IP".  Communication API being used: "SOCKETS".  SQLSTATE=08001 SQLCODE=-30081',
            "down",
        ),
        (
            'Statement Prepare Failed: [IBM][CLI Driver][AS] SQL0204N  "ERPLIB.STKBAL" is an undefined '
            "name.  SQLSTATE=42704 SQLCODE=-204",
            "error",
        ),
        ("Statement Execute Failed: item 1000952 at 666: SQLCODE=-204", "error"),  # numbers alone say nothing
        ("canceling statement due to statement timeout", "timeout"),  # a PostgreSQL replica
    ],
)
def test_db2s_failures_are_read_by_their_message(message: str, kind: str) -> None:
    assert failure_kind(message) == kind
