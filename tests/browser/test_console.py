"""Staff's daily flows in the admin, in Chromium: each asserts what the page shows and what the
database holds afterwards. The home page and an order's page are kept as screenshots (artefacts
for review, never compared to a golden image).

The live server runs in a thread of this process, on the test database (transactional: what the
test writes is committed, so the server sees it); the simulated AS400 is the ``simulator``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from integration.as400.simulator.engine import Simulator
from integration.models import OutboxMessage
from inventory.models import Category, ItemMapping, RolloutChange
from orders.models import Order
from orders.selectors import message_order
from tests.factories.console import BUSINESS, OPERATIONS, PASSWORD, SUPPORT, member, orders_needing_staff

# serialized_rollback: the database is emptied after each test (it is committed), and the roles'
# groups, which migrations create, are put back before the next.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    follow(page, "#login-form [type=submit]")
    page.wait_for_selector(".platform-home")


def follow(page: Any, selector: str) -> None:
    """Click what ``selector`` finds and wait until the page it leads to has loaded."""
    with page.expect_navigation():
        page.click(selector)


def count(page: Any, tile: str) -> int:
    return int(page.locator(f'[data-tile="{tile}"] .platform-count').inner_text())


def act(page: Any, action: str, *pks: int) -> None:
    """Tick the rows ``pks`` of the changelist shown and run ``action`` on them."""
    for pk in pks:
        page.check(f'input[name="_selected_action"][value="{pk}"]')
    page.select_option('select[name="action"]', action)
    follow(page, 'button[name="index"]')


def messages(page: Any) -> str:
    return page.locator("ul.messagelist").inner_text()


@pytest.mark.parametrize(
    ("group", "first", "not_shown"),
    [
        (BUSINESS, "selling_paused", "simulator_faults"),
        (OPERATIONS, "selling_paused", None),
        (SUPPORT, "selling_paused", "simulator_faults"),
    ],
)
def test_each_role_logs_in_to_its_home_page(
    page: Any,
    live_server: Any,
    simulator: Simulator,
    artefacts: Path,
    group: str,
    first: str,
    not_shown: str | None,
) -> None:
    orders_needing_staff(simulator)
    member("someone", group)

    log_in(page, live_server, "someone")

    tiles = page.locator("[data-tile]").evaluate_all("els => els.map(e => e.dataset.tile)")
    assert tiles[0] == first
    assert count(page, "orders_attention") == 2  # the rejected event, the dead message
    assert count(page, "dead_messages") == 1
    if not_shown:
        assert not_shown not in tiles
    else:
        assert "simulator_faults" in tiles
    assert page.locator('[data-chart="orders_per_hour"] svg rect.today').count() == 24
    if group == OPERATIONS:
        page.screenshot(path=str(artefacts / "home-operations.png"), full_page=True)
    # The count links to the list of exactly those orders.
    follow(page, '[data-tile="orders_attention"] a')
    assert re.search(r"attention=any", page.url)
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert get_user_model().objects.get(username="someone").last_login is not None


def test_business_staff_resolve_an_order_needing_attention_with_a_note(
    page: Any, live_server: Any, simulator: Simulator, artefacts: Path
) -> None:
    order, _ = orders_needing_staff(simulator)
    member("claire", BUSINESS)
    log_in(page, live_server, "claire")
    page.screenshot(path=str(artefacts / "home-business.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    page.screenshot(path=str(artefacts / "order.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/orders/order/?attention=any")
    act(page, "resolve_attention", order.pk)
    page.fill('textarea[name="note"]', "Event Z checked with the warehouse: nothing to do.")
    follow(page, 'input[name="apply"]')

    assert order.order_number in messages(page)
    after = Order.objects.get(pk=order.pk)
    assert after.attention_note == "Event Z checked with the warehouse: nothing to do."
    assert after.attention_resolved_by == "claire"
    assert after.attention_resolved_at is not None
    page.goto(f"{live_server.url}/admin/")
    assert count(page, "orders_attention") == 1  # the dead message's order is left


def test_operations_retry_a_dead_message(page: Any, live_server: Any, simulator: Simulator) -> None:
    _, dead = orders_needing_staff(simulator)
    member("olivier", OPERATIONS)
    log_in(page, live_server, "olivier")
    assert count(page, "dead_messages") == 1

    follow(page, '[data-tile="dead_messages"] a')
    act(page, "retry", dead.pk)

    assert f"n° {dead.pk} de {message_order(dead).order_number} est de nouveau en attente" in messages(page)  # in French
    assert OutboxMessage.objects.get(pk=dead.pk).state == OutboxMessage.State.PENDING
    page.goto(f"{live_server.url}/admin/")
    assert count(page, "dead_messages") == 0


def test_business_staff_move_a_category_from_pilot_to_live_and_see_it_in_the_history(
    page: Any, live_server: Any, simulator: Simulator
) -> None:
    category = Category.objects.order_by("family_code").first()
    assert category is not None
    Category.objects.filter(pk=category.pk).update(rollout_stage=Category.Stage.PILOT)
    member("claire", BUSINESS)
    log_in(page, live_server, "claire")
    assert count(page, "pilot_categories") == 1

    follow(page, '[data-tile="pilot_categories"] a')
    act(page, "set_stage", category.pk)
    page.select_option('select[name="stage"]', "live")
    page.fill('input[name="note"]', "pilot went well")
    follow(page, 'input[name="apply"]')

    assert f"1 passée(s) à « ouvert » ({category.family_code})" in messages(page)  # the stage's label, in French
    assert Category.objects.get(pk=category.pk).rollout_stage == Category.Stage.LIVE
    change = RolloutChange.objects.get(category=category)
    assert (change.old_value, change.new_value, change.note, change.changed_by_name) == (
        "pilot", "live", "pilot went well", "claire",
    )  # fmt: skip
    page.goto(f"{live_server.url}/admin/inventory/rolloutchange/?category__id__exact={category.pk}")
    history = page.locator("#result_list tbody").inner_text()
    assert "pilot went well" in history
    assert "claire" in history
    assert "Pilote\tOuvert" in history  # from and to, by their French labels


def test_operations_import_a_mapping_file_see_its_error_fix_it_and_confirm(
    page: Any, live_server: Any, simulator: Simulator, tmp_path: Path
) -> None:
    mapping = ItemMapping.objects.select_related("product").order_by("product__item_number").first()
    assert mapping is not None
    item = mapping.product.item_number
    mapping.delete()  # an item the storefronts do not know yet
    before = ItemMapping.objects.count()
    member("olivier", OPERATIONS)
    log_in(page, live_server, "olivier")
    bad = tmp_path / "mappings.csv"
    bad.write_text(f"item_number,sku\n{item},SKU-NEW-1\nZZ99999,SKU-NEW-2\n")
    good = tmp_path / "mappings-fixed.csv"
    good.write_text(f"item_number,sku\n{item},SKU-NEW-1\n")

    page.goto(f"{live_server.url}/admin/inventory/itemmapping/import/")
    page.set_input_files('input[name="import_file"]', str(bad))
    page.select_option('select[name="format"]', "0")  # CSV
    follow(page, 'form[enctype="multipart/form-data"] [type="submit"]')
    report = page.locator("#content").inner_text()

    # The per-row report: the row's number, the column and what is wrong with it.
    assert "article 'ZZ99999' inconnu" in report  # in the reader's French
    assert re.search(r"^2\t1\nITEM_NUMBER\narticle 'ZZ99999' inconnu", report, re.M | re.I)
    assert page.locator('input[name="confirm"], form[action$="process_import/"]').count() == 0
    assert ItemMapping.objects.count() == before

    page.goto(f"{live_server.url}/admin/inventory/itemmapping/import/")
    page.set_input_files('input[name="import_file"]', str(good))
    page.select_option('select[name="format"]', "0")  # CSV
    follow(page, 'form[enctype="multipart/form-data"] [type="submit"]')
    follow(page, 'form[action$="process_import/"] [type="submit"]')

    assert ItemMapping.objects.count() == before + 1
    assert ItemMapping.objects.get(sku="SKU-NEW-1").product.item_number == item


def test_operations_switch_a_simulator_fault_on_and_off(
    page: Any, live_server: Any, simulator: Simulator
) -> None:
    member("olivier", OPERATIONS)
    log_in(page, live_server, "olivier")
    assert count(page, "simulator_faults") == 0

    follow(page, '[data-tile="simulator_faults"] a')
    row = page.locator("tr", has=page.locator("td strong", has_text=re.compile("^down$")))
    with page.expect_navigation():
        row.locator('button[value="fault_on"]').click()

    assert (
        "ACTIF" in page.locator("tr", has=page.locator("td strong", has_text=re.compile("^down$"))).inner_text()
    )
    assert [f.name for f in simulator.status().faults if f.active] == ["down"]
    page.goto(f"{live_server.url}/admin/")
    assert count(page, "simulator_faults") == 1

    follow(page, '[data-tile="simulator_faults"] a')
    with page.expect_navigation():
        page.locator("tr", has=page.locator("td strong", has_text=re.compile("^down$"))).locator(
            'button[value="fault_off"]'
        ).click()

    assert [f.name for f in simulator.status().faults if f.active] == []
    page.goto(f"{live_server.url}/admin/")
    assert count(page, "simulator_faults") == 0
