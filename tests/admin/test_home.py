"""The admin's home page: each count is what its link lists, each role sees its figures first, and
the charts draw the data (read at one ``now``: the clock is frozen).

A tile's count is checked against the changelist it links to (``cl.result_count`` of that page,
its filters included), so a count and its list cannot drift apart; the charts' bars and points
carry their values (``data-value``), checked against rows made at known hours.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integration.models import FileRun, OutboxMessage
from inventory.models import Category
from orders.attention import attention_orders
from orders.models import Order
from tests.factories.admin import World
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]

TILE = re.compile(
    r'data-tile="(\w+)">\s*<a href="([^"]+)">\s*<span class="platform-count" data-count="(\d+)"'
)
CHART = re.compile(r'data-chart="(\w+)"(.*?)</figure>', re.S)
VALUE = re.compile(r'<(rect|circle) class="([\w-]+)" data-value="([\d.]+)"')


def tiles(html: str) -> list[tuple[str, str, int]]:
    """(key, link, count) of each tile, in the page's order."""
    return [(key, url.replace("&amp;", "&"), int(count)) for key, url, count in TILE.findall(html)]


def chart_values(html: str, key: str) -> dict[str, list[float]]:
    """The values of a chart's bars or points, by their class (series)."""
    body = dict(CHART.findall(html))[key]
    values: dict[str, list[float]] = {}
    for _, css, value in VALUE.findall(body):
        values.setdefault(css, []).append(float(value))
    return values


def member(name: str, group: str) -> Client:
    user = get_user_model().objects.create_user(name, password="pw-staff-123", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    http = Client()
    http.force_login(user)
    return http


def test_every_count_is_the_number_of_rows_its_link_lists(world: World, superuser_client: Client) -> None:
    html = superuser_client.get(reverse("admin:index")).content.decode()

    shown = {key: (url, count) for key, url, count in tiles(html)}
    assert {"orders_attention", "dead_messages", "pilot_categories", "late_extracts", "overdue_returns",
            "open_discrepancies", "quarantined_files", "selling_paused"} <= set(shown)  # fmt: skip
    assert shown["orders_attention"][1] == attention_orders().count() == 1
    assert shown["dead_messages"][1] == OutboxMessage.objects.filter(state="dead").count() == 1
    assert shown["pilot_categories"][1] == Category.objects.filter(rollout_stage="pilot").count() > 0
    assert shown["selling_paused"][1] == 0  # resumed by the world
    for key, (url, count) in shown.items():
        if key in ("late_extracts", "selling_paused", "simulator_faults"):
            continue  # their pages show the extracts, the switch, the faults: not one row per count
        listed = superuser_client.get(url)
        assert listed.status_code == 200, (key, listed.status_code, listed.get("Location"))
        assert "cl" in listed.context, (key, url)
        assert listed.context["cl"].result_count == count, (key, url)


DETAIL = re.compile(r'data-tile="(\w+)">.*?<span class="platform-detail">([^<]*)</span>', re.S)


def tile_details(html: str) -> dict[str, str]:
    return {key: unescape(detail) for key, detail in DETAIL.findall(html)}


def test_the_attention_tile_names_its_reasons_in_words_not_codes(world: World, superuser_client: Client) -> None:
    # given: the world's order has an AS400 event not applied (rejected) and a dead ORDIMP
    # when: the home page is read in French (the default)
    html = superuser_client.get(reverse("admin:index")).content.decode()

    # then: its reasons by their labels, each with its count; no code ("discrepancy: 1")
    assert tile_details(html)["orders_attention"] == "évènement AS400 non appliqué : 1, message mort : 1"


def test_the_attention_tile_in_english(world: World, superuser_client: Client, english: None) -> None:
    html = superuser_client.get(reverse("admin:index")).content.decode()

    assert tile_details(html)["orders_attention"] == "AS400 event not applied: 1, dead message: 1"


def test_a_late_extract_is_counted_and_a_fresh_one_is_not(world: World, superuser_client: Client) -> None:
    now = timezone.now()
    for file, seq in (("STKBAL", 2), ("ITMMST", 1), ("WEBORD", 1)):
        FileRun.objects.create(
            file=file,
            seq=seq,
            kind="F",
            outcome="applied",
            taken_at=now - timedelta(minutes=10),
            finished_at=now,
        )
    fresh = dict((k, c) for k, _, c in tiles(superuser_client.get(reverse("admin:index")).content.decode()))
    FileRun.objects.filter(file="STKBAL", seq=2).update(taken_at=now - timedelta(hours=3))
    stale = superuser_client.get(reverse("admin:index")).content.decode()

    assert fresh["late_extracts"] == 0
    assert dict((k, c) for k, _, c in tiles(stale))["late_extracts"] == 1
    assert "STKBAL" in stale.split('data-tile="late_extracts"')[1].split("</li>")[0]


@pytest.mark.parametrize(
    ("group", "first", "absent"),
    [
        ("Équipe commerce", "selling_paused", {"simulator_faults"}),
        ("Exploitation", "selling_paused", set()),
        ("Support", "selling_paused", {"simulator_faults"}),
    ],
)
def test_each_role_sees_its_figures_first(
    world: World, settings: Any, group: str, first: str, absent: set[str]
) -> None:
    settings.AS400_SIMULATOR_ADMIN = True  # the simulator's tile: operations only
    html = member("someone", group).get(reverse("admin:index")).content.decode()
    keys = [key for key, _, _ in tiles(html)]
    mine = re.findall(r'platform-tile[^"]*of-my-role[^"]*" data-tile="(\w+)"', html)

    assert keys[0] == first
    assert keys[: len(mine)] == mine  # the role's tiles come before the others
    assert not absent & set(keys)
    if group == "Exploitation":
        assert "simulator_faults" in mine
        assert mine[:4] == ["selling_paused", "dead_messages", "quarantined_files", "late_extracts"]
    if group == "Équipe commerce":
        assert set(mine) == {
            "selling_paused",
            "orders_attention",
            "overdue_returns",
            "open_discrepancies",
            "pilot_categories",
        }


def test_a_figure_is_shown_only_to_who_may_see_its_list(world: World) -> None:
    user = get_user_model().objects.create_user("alerts-only", password="pw-staff-123", is_staff=True)
    http = Client()
    http.force_login(user)

    html = http.get(reverse("admin:index")).content.decode()

    assert tiles(html) == []
    assert "data-chart" not in html


def test_orders_per_hour_today_against_the_same_day_last_week(world: World, superuser_client: Client) -> None:
    today_9 = TUESDAY.replace(hour=9, minute=15)
    week_ago_14 = (TUESDAY - timedelta(days=7)).replace(hour=14, minute=30)
    Order.objects.filter(pk=world.order.pk).update(created_at=today_9)
    for n, at in enumerate([week_ago_14, week_ago_14 + timedelta(minutes=5), TUESDAY + timedelta(hours=3)]):
        copy = Order.objects.get(pk=world.order.pk)
        copy.pk, copy.order_number, copy.idempotency_key, copy.reservation = (
            None,
            f"WEB-9{n:05d}",
            f"copy-{n}",
            None,
        )
        copy.save()
        Order.objects.filter(pk=copy.pk).update(created_at=at)

    values = chart_values(superuser_client.get(reverse("admin:index")).content.decode(), "orders_per_hour")

    today = [0.0] * 24
    today[9] = 1  # 13:00 is after now (10:00): not counted today
    last_week = [0.0] * 24
    last_week[14] = 2
    assert values["today"] == today
    assert values["last-week"] == last_week


def test_the_outbox_depth_counts_what_waited_at_each_hour(world: World, superuser_client: Client) -> None:
    now = timezone.now()
    OutboxMessage.objects.all().delete()
    base = dict(kind="ORDIMP", subject=world.order.pk)
    OutboxMessage.objects.create(**base, state="pending", created_at=now - timedelta(hours=5, minutes=30))
    OutboxMessage.objects.create(
        **base,
        state="sent",
        created_at=now - timedelta(hours=3, minutes=30),
        sent_at=now - timedelta(minutes=90),
    )

    html = superuser_client.get(reverse("admin:index")).content.decode()
    depth = chart_values(html, "outbox_depth")["point"]

    # Hours end at now-23h ... now: 5h30 ago the first arrived, 3h30 ago the second, 1h30 ago it left.
    assert depth == [0.0] * 18 + [1.0, 1.0, 2.0, 2.0, 1.0, 1.0]
    assert "330 min" in dict(CHART.findall(html))["outbox_depth"]


def test_the_freshness_of_stock_hour_by_hour(world: World, superuser_client: Client) -> None:
    now = timezone.now()
    FileRun.objects.all().delete()
    for seq, hours_ago in ((1, 4), (2, 2)):
        taken = now - timedelta(hours=hours_ago)
        FileRun.objects.create(
            file="STKBAL",
            seq=seq,
            kind="D",
            outcome="applied",
            taken_at=taken,
            finished_at=taken + timedelta(minutes=5),
        )

    ages = chart_values(superuser_client.get(reverse("admin:index")).content.decode(), "stock_freshness")[
        "point"
    ]

    # No point before the first extract; then the age grows until the next one is applied.
    assert ages == [60.0, 120.0, 60.0, 120.0]
