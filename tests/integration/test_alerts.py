"""Alerts: raised once per open subject, counted when raised again, reopened after resolution."""

from __future__ import annotations

import pytest

from integration.alerts import alert_raise, alert_resolve
from integration.models import Alert

pytestmark = pytest.mark.django_db


def test_the_same_alert_raised_twice_is_one_open_alert_counted_twice() -> None:
    alert_raise(kind="file_quarantined", subject="STKBAL_000012", message="CTHASH differs")
    alert = alert_raise(kind="file_quarantined", subject="STKBAL_000012", message="CTHASH differs again")

    assert Alert.objects.count() == 1
    assert alert.occurrences == 2
    assert alert.message == "CTHASH differs again"


def test_another_subject_is_another_alert() -> None:
    alert_raise(kind="file_quarantined", subject="STKBAL_000012", message="x")
    alert_raise(kind="file_quarantined", subject="STKBAL_000013", message="y")

    assert Alert.objects.filter(resolved_at__isnull=True).count() == 2


def test_a_resolved_alert_raised_again_opens_a_new_one(django_user_model) -> None:  # type: ignore[no-untyped-def]
    staff = django_user_model.objects.create_user("ops", password="x")
    first = alert_raise(kind="sequence_gap", subject="STKBAL", message="000013 missing")
    alert_resolve(alert=first, user=staff)

    second = alert_raise(kind="sequence_gap", subject="STKBAL", message="000020 missing")

    first.refresh_from_db()
    assert first.resolved_by == staff
    assert second.pk != first.pk
    assert second.occurrences == 1
    assert Alert.objects.filter(resolved_at__isnull=True).get() == second
