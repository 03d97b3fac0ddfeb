"""Who may do what with reconciliation: the groups the migrations create (a test in a transaction,
so that they are there: a transactional test's flush would remove them)."""

from __future__ import annotations

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
