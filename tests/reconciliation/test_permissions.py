"""Who may do what with reconciliation: the groups the migrations create (a test in a transaction,
so that they are there: a transactional test's flush would remove them)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from integration.as400.simulator.engine import Simulator
from reconciliation.models import Discrepancy, Threshold
from tests.factories.nights import night_passes, resolve
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]


def test_business_staff_resolve_and_only_operations_set_thresholds(simulator: Simulator) -> None:
    from django.contrib.auth.models import Group

    night_passes(simulator)
    business = User.objects.create_user("lea", password="x", is_staff=True)
    business.groups.add(Group.objects.get(name="Équipe commerce"))
    operations = User.objects.create_user("marc", password="x", is_staff=True)
    operations.groups.add(Group.objects.get(name="Exploitation"))
    as_business, as_operations = Client(), Client()
    as_business.force_login(business)
    as_operations.force_login(operations)

    some = Discrepancy.objects.filter(state=Discrepancy.State.OPEN).order_by("pk")[:2]
    resolve(as_business, list(some), "ignore", note="vu avec le siège")
    assert Discrepancy.objects.filter(state=Discrepancy.State.IGNORED).count() == 2
    assert as_business.get("/admin/reconciliation/threshold/").status_code == 200  # they see them
    assert (
        as_business.post("/admin/reconciliation/threshold/add/", {"kind": "stock_drift"}).status_code == 403
    )
    added = as_operations.post(
        "/admin/reconciliation/threshold/add/", {"kind": "stock_drift", "max_units": "50"}
    )
    assert added.status_code == 302
    threshold = Threshold.objects.get(kind="stock_drift")
    assert (threshold.max_units, threshold.updated_by) == (50, operations)


def test_a_kind_past_its_threshold_alerts_and_mails_operations_and_a_reconciled_night_is_healthy(
    simulator: Simulator, settings: Any, mailoutbox: list[Any], client: Client
) -> None:
    from integration.models import Alert
    from reconciliation.selectors import reconciliation_health

    settings.OPERATIONS_EMAILS = ["exploitation@example.fr"]
    Threshold.objects.create(kind="product_without_content", max_count=0)
    Threshold.objects.create(kind="mapping_to_delisted", max_count=10_000)  # not passed: no alert for it
    run = night_passes(simulator)

    bare = Discrepancy.objects.filter(kind="product_without_content", state="open").count()
    assert bare > 0
    (alert,) = Alert.objects.filter(kind="reconciliation_threshold")
    assert alert.subject == "product_without_content"
    assert f"{bare} écarts (seuil 0)" in alert.message
    (mail,) = mailoutbox
    assert mail.to == ["exploitation@example.fr"]
    assert "product_without_content" in mail.body
    assert "1 seuil(s) dépassé(s)" in mail.subject
    # The night reconciled: healthy once its deadline has passed (at 07:00 Paris the next morning).
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    morning = datetime.combine(run.night, time(7, 0), tzinfo=ZoneInfo("Europe/Paris"))
    health = reconciliation_health(now=morning)
    assert (health.healthy, health.night) == (True, run.night), health.problems
    assert not reconciliation_health(now=morning + timedelta(days=1)).healthy  # the next night: not run
