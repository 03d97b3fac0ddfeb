"""A query the ORM defines once and compiles once per shape, then runs with new values.

The ORM rebuilds and recompiles a query every time it runs. For the storefront's hottest read
(availability, asked by every product page of both storefronts, 200 times a second at a sale),
compiling the query cost three times what PostgreSQL took to answer it. Writing that query by
hand as SQL would make a second home for rules the ORM already states (the safety stock, the
expired reservations), so instead:

- the ORM still builds the query, from the same expressions as every other read and take, with
  *placeholder* values: distinct sentinels that no real value can equal;
- it is compiled once per shape (how many values each list holds) per thread, and the sentinels
  are found among the compiled parameters, so each one's position is known;
- each run copies the compiled parameters, puts the real values in the sentinels' places, sends
  the SQL through Django's cursor (so query logging and test capture see it), and converts the
  rows with the compiler's own converters (dates from SQLite's text, for instance).

The same works for a conditional ``UPDATE`` (the stock take, run on every reservation):
:func:`update_of` makes the query ``queryset.update(...)`` would run, :func:`prepared_update` runs
it and :func:`prepared_sql` gives its SQL and parameters, for a caller that sends it inside a
larger statement.

Only values the ORM passes as parameters can be slots: integers (ids, codes), strings and
datetimes. A compile in which a sentinel is not found raises at once (a shape this helper cannot
prepare), never runs with a wrong value; a value the query uses twice (a quantity added and
compared) is found twice and filled twice.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import QuerySet
from django.db.models.sql import Query, UpdateQuery
from django.db.models.sql.compiler import SQLCompiler

_TIMESTAMPTZ_OID = 1184
_local = threading.local()  # compiled queries, per thread: a compiler holds its thread's connection
_sentinel_numbers = itertools.count(1)

Value = int | str | datetime
Values = Mapping[str, Value | Sequence[Value]]


def _sentinel_like(value: Value) -> Value:
    n = next(_sentinel_numbers)
    if isinstance(value, bool):
        raise TypeError("a boolean cannot be a prepared slot (two values, no room for a sentinel)")
    if isinstance(value, int):
        return -(10**15) - n
    if isinstance(value, datetime):
        return datetime(1901, 1, 1, tzinfo=UTC) + timedelta(microseconds=n)
    if isinstance(value, str):
        return f"\x00prepared slot {n}\x00"
    raise TypeError(f"a prepared slot holds an int, a str or a datetime, not {type(value).__name__}")


@dataclass
class _Compiled:
    sql: str
    params: list[Any]
    slots: list[tuple[int, str, int | None]]  # (parameter index, slot name, index in its list or None)
    compiler: SQLCompiler
    adapt: Callable[[Any], Any]


def _adapter(using: str) -> Callable[[Any], Any]:
    ops = connections[using].ops

    def adapt(value: Any) -> Any:  # what the field's get_db_prep_value makes of a value
        return ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value

    return adapt


Build = Callable[[Mapping[str, Any]], "QuerySet[Any] | Query"]


def update_of(queryset: QuerySet[Any], **values: Any) -> UpdateQuery:
    """The query ``queryset.update(**values)`` runs (``QuerySet.update``'s own steps), unrun."""
    query = queryset.query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values(values)
    query.annotations = {}
    return query


def _compile(
    build: Build,
    values: Values,
    using: str,
) -> _Compiled:
    adapt = _adapter(using)
    placeholders: dict[str, Any] = {}
    wanted: dict[Any, tuple[str, int | None]] = {}
    for name, value in values.items():
        if isinstance(value, (list, tuple)):
            sentinels = [_sentinel_like(v) for v in value]
            placeholders[name] = sentinels
            wanted.update({adapt(s): (name, i) for i, s in enumerate(sentinels)})
        else:
            sentinel = _sentinel_like(value)  # type: ignore[arg-type]
            placeholders[name] = sentinel
            wanted[adapt(sentinel)] = (name, None)
    built = build(placeholders)
    query = built.query if isinstance(built, QuerySet) else built
    compiler = query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    params = list(params)
    slots = [(i, *wanted[p]) for i, p in enumerate(params) if _hashable(p) and p in wanted]
    if {(name, index) for _, name, index in slots} != set(wanted.values()):
        raise ValueError("prepared query: a slot's placeholder is missing from the compiled query")
    return _Compiled(sql, params, slots, compiler, adapt)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _prepared(key: Hashable, build: Build, values: Values, using: str) -> tuple[_Compiled, list[Any]]:
    shape = (
        key,
        using,
        tuple((name, len(v) if isinstance(v, (list, tuple)) else None) for name, v in values.items()),
    )
    cache: dict[Hashable, _Compiled] = _local.__dict__.setdefault("compiled", {})
    compiled = cache.get(shape)
    if compiled is None:
        compiled = cache[shape] = _compile(build, values, using)
    params = list(compiled.params)
    for position, name, index in compiled.slots:
        value = values[name]
        params[position] = compiled.adapt(value[index] if index is not None else value)  # type: ignore[index]
    return compiled, params


def prepared_rows(
    key: Hashable,
    build: Callable[[Mapping[str, Any]], QuerySet[Any]],
    values: Values,
    *,
    using: str = "default",
) -> list[Sequence[Any]]:
    """The rows of ``build(values)`` (a ``values_list`` queryset), compiled once per ``key`` and shape.

    ``build`` gets a mapping of the same names as ``values`` and must use each value (or each item
    of a list) as a query parameter; lists must not be empty. ``key`` names the query; the lists'
    lengths are added to it.
    """
    compiled, params = _prepared(key, build, values, using)
    with _cursor(using) as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    return list(compiled.compiler.results_iter(results=[rows]))


def _cursor(using: str) -> Any:
    """Django's cursor, except on PostgreSQL with ``DATABASE_PREPARED_STATEMENTS``: a cursor of the
    same connection that binds on the server, so that psycopg prepares the statement (the
    connection's ``prepare_threshold`` is 0, and only such cursors prepare), still wrapped by
    Django (query logging, execute wrappers, its errors).

    Django binds parameters on the client, so PostgreSQL plans every query again: for the
    availability query, planning took as long as running it. A statement prepared on the
    connection (kept: ``DATABASE_CONN_MAX_AGE``) is planned once; its text is the same for every
    run of a shape, so each shape is one prepared statement per connection.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or not getattr(settings, "DATABASE_PREPARED_STATEMENTS", False):
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
    loader = connection.connection.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)
    if connection.timezone != loader.timezone:  # as Django's create_cursor does
        register_tzloader(connection.timezone, raw)
    return connection._prepare_cursor(raw)  # type: ignore[attr-defined]


def prepared_sql(key: Hashable, build: Build, values: Values, *, using: str = "default") -> tuple[str, list[Any]]:
    """The SQL and parameters of ``build(values)`` (a queryset, or a query such as :func:`update_of`'s),
    compiled once per ``key`` and shape as :func:`prepared_rows`; for a caller that sends it itself."""
    compiled, params = _prepared(key, build, values, using)
    return compiled.sql, params


def prepared_update(key: Hashable, build: Callable[[Mapping[str, Any]], UpdateQuery], values: Values,
                    *, using: str = "default") -> int:  # fmt: skip
    """Run the update ``build(values)`` makes (:func:`update_of`), compiled once per ``key`` and
    shape; the number of rows it changed."""
    compiled, params = _prepared(key, build, values, using)
    with connections[using].cursor() as cursor:
        cursor.execute(compiled.sql, params)
        return int(cursor.rowcount)
