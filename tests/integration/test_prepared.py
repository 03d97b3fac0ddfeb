"""A prepared query answers (or changes) exactly what the ORM's does, for every value and shape."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from integration.core.prepared import prepared_rows, prepared_update, update_of
from inventory.models import Location, RolloutChange
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]


def _changes(v: Mapping[str, Any]) -> QuerySet[RolloutChange]:
    return (
        RolloutChange.objects.filter(what__in=v["whats"], changed_at__gte=v["since"], changed_by_name=v["who"])
        .order_by("pk")
        .values_list("what", "new_value", "changed_at")
    )


@pytest.fixture
def changes() -> list[RolloutChange]:
    now = timezone.now()
    return [
        RolloutChange.objects.create(
            what=what, old_value="off", new_value=f"v{i}", changed_by_name=who, changed_at=now - timedelta(hours=i)
        )
        for i, (what, who) in enumerate(
            [("rollout_stage", "ana"), ("selling_enabled", "ana"), ("rollout_stage", "bob"), ("note", "ana")]
        )
    ]


def test_prepared_rows_are_the_orms_rows_for_each_value_and_each_shape(changes: list[RolloutChange]) -> None:
    now = timezone.now()
    built: list[Mapping[str, Any]] = []

    def build(v: Mapping[str, Any]) -> QuerySet[RolloutChange]:
        built.append(v)
        return _changes(v)

    asks = [
        {"whats": ["rollout_stage", "selling_enabled"], "since": now - timedelta(hours=5), "who": "ana"},
        {"whats": ["rollout_stage", "note"], "since": now - timedelta(hours=1), "who": "ana"},  # same shape
        {"whats": ["rollout_stage", "note"], "since": now - timedelta(hours=9), "who": "bob"},
        {"whats": ["rollout_stage", "selling_enabled", "note"], "since": now - timedelta(hours=9), "who": "ana"},
    ]
    for ask in asks:
        assert [tuple(r) for r in prepared_rows("test.changes", build, ask)] == list(_changes(ask))
    assert len(built) == 2  # once per shape: two lists of two, then one of three
    first = prepared_rows("test.changes", build, asks[0])[0]
    assert first[2] == changes[0].changed_at
    assert timezone.is_aware(first[2])


def test_a_value_is_only_ever_a_parameter(changes: list[RolloutChange]) -> None:
    hostile = {"whats": ["x') OR 1=1 --", "rollout_stage"], "since": timezone.now() - timedelta(days=1), "who": "ana'"}

    assert prepared_rows("test.changes", _changes, hostile) == []
    assert RolloutChange.objects.count() == len(changes)


def test_a_query_that_does_not_use_a_value_is_refused_before_it_runs() -> None:
    def forgets_who(v: Mapping[str, Any]) -> QuerySet[Location]:
        return Location.objects.filter(code__in=v["codes"]).values_list("code")

    with pytest.raises(ValueError, match="slot's placeholder is missing"):
        prepared_rows("test.forgets", forgets_who, {"codes": [1, 2], "who": "ana"})
    with pytest.raises(TypeError, match="boolean"):
        prepared_rows("test.bool", forgets_who, {"codes": [1], "flag": True})


def _prepared_statements() -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"inventory_rolloutchange"%'],
        )
        return [(statement, runs) for statement, runs in cursor.fetchall()]


@pytest.mark.postgres
def test_on_postgresql_each_shape_is_prepared_once_on_the_connection_and_run_again(
    changes: list[RolloutChange],
) -> None:
    assert settings.DATABASE_PREPARED_STATEMENTS is True
    now = timezone.now()
    asks = [
        {"whats": ["rollout_stage", "selling_enabled"], "since": now - timedelta(hours=5), "who": "ana"},
        {"whats": ["rollout_stage", "note"], "since": now - timedelta(hours=9), "who": "bob"},  # same shape
    ]
    for ask in asks * 3:
        assert [tuple(r) for r in prepared_rows("test.changes.pg", _changes, ask)] == list(_changes(ask))

    statements = _prepared_statements()
    assert len(statements) == 1  # one statement for the shape, whatever the values
    assert statements[0][1] == 6  # planned from it six times: never sent again as text
    # Every other query keeps Django's client-side binding: none of them is prepared.
    list(_changes(asks[0]))
    assert len(_prepared_statements()) == 1


@pytest.mark.postgres
def test_on_postgresql_with_prepared_statements_off_nothing_is_prepared(
    changes: list[RolloutChange], settings: Any
) -> None:
    settings.DATABASE_PREPARED_STATEMENTS = False
    ask = {"whats": ["rollout_stage"], "since": timezone.now() - timedelta(hours=5), "who": "ana"}
    assert [tuple(r) for r in prepared_rows("test.changes.off", _changes, ask)] == list(_changes(ask))
    assert _prepared_statements() == []


def test_a_prepared_update_changes_what_the_orms_update_changes_with_a_value_used_twice(
    changes: list[RolloutChange],
) -> None:
    built: list[Mapping[str, Any]] = []

    def build(v: Mapping[str, Any]) -> Any:  # the new value is in SET and in WHERE
        built.append(v)
        return update_of(RolloutChange.objects.filter(what=v["what"]).exclude(new_value=v["value"]), new_value=v["value"])

    assert prepared_update("test.update", build, {"what": "rollout_stage", "value": "v9"}) == 2
    assert prepared_update("test.update", build, {"what": "rollout_stage", "value": "v9"}) == 0
    assert prepared_update("test.update", build, {"what": "note", "value": "n'; --"}) == 1
    assert len(built) == 1
    assert sorted(RolloutChange.objects.values_list("what", "new_value")) == [
        ("note", "n'; --"), ("rollout_stage", "v9"), ("rollout_stage", "v9"), ("selling_enabled", "v1")
    ]
