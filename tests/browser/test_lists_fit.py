"""Every list of the admin fits a laptop's 1400 px: no changelist scrolls sideways and hides its
last columns (issue 14). Measured in Chromium on the lists as staff see them, with the rows the
``simulator`` world leaves (orders placed and sent, events, a dead message, file runs...)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

from integration.as400.simulator.engine import Simulator
from tests.factories.console import PASSWORD, orders_needing_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

#: How far a table may pass its frame (rounding of borders), in pixels.
SLACK = 2


def changelists() -> list[str]:
    urls = []
    for model in admin.site._registry:
        try:
            urls.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
        except NoReverseMatch:
            continue
    return sorted(urls)


def test_no_list_scrolls_sideways_at_1400_px(page: Any, live_server: Any, simulator: Simulator) -> None:
    orders_needing_staff(simulator)
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")

    too_wide = {}
    for url in changelists():
        page.goto(live_server.url + url)
        sizes = page.evaluate(
            """() => { const r = document.querySelector('#changelist .results');
                       return r ? [r.scrollWidth, r.clientWidth] : null; }"""
        )
        if sizes is not None and sizes[0] > sizes[1] + SLACK:
            too_wide[url] = sizes

    assert too_wide == {}
