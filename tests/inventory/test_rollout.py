"""Rollout stages and the selling switch: each change recorded once, with who, from every door.

The services are called directly, through ``manage.py rollout`` and through a categories file
(``manage.py reference import``); the admin's doors are in test_admin.py.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from inventory.models import Category, ItemMapping, Product, Reservation, RolloutChange, SellingSwitch
from inventory.reference import command_line_actor
from inventory.rollout import (
    RolloutError,
    category_set_stage,
    rollout_history,
    selling_pause,
    selling_resume,
)
from inventory.selectors import selling_enabled

pytestmark = pytest.mark.django_db


@pytest.fixture
def grocery(db: None) -> Category:
    category = Category.objects.create(family_code="F001", name="Épicerie")
    for n, status in [("A1", "A"), ("A2", "A"), ("A3", "D")]:
        product = Product.objects.create(item_number=n, category=category, status=status)
        if n != "A2":
            ItemMapping.objects.create(product=product, sku=n)
    return category


@pytest.fixture
def drinks(db: None) -> Category:
    return Category.objects.create(family_code="F002", name="Boissons", rollout_stage="live")


@pytest.fixture
def staff(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_user("claire", password="x", is_staff=True)


def changes() -> list[tuple[str | None, str, str, str, str | None, str, str]]:
    return [
        (
            c.category.family_code if c.category else None,
            c.what,
            c.old_value,
            c.new_value,
            c.changed_by.get_username() if c.changed_by else None,
            c.changed_by_name,
            c.note,
        )
        for c in RolloutChange.objects.select_related("category", "changed_by").order_by("pk")
    ]


def rollout(*args: str) -> str:
    out = StringIO()
    call_command("rollout", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- Services -------------------------------------------------------------------------------------


def test_a_stage_change_is_recorded_with_the_user_and_the_same_stage_again_is_not(
    grocery: Category, staff: AbstractBaseUser
) -> None:
    first = category_set_stage(category=grocery, stage="pilot", user=staff, note="week 1")
    again = category_set_stage(category=grocery, stage="pilot", user=staff, note="week 1 again")

    assert first is not None
    assert again is None
    assert Category.objects.get(pk=grocery.pk).rollout_stage == "pilot"
    assert changes() == [("F001", "rollout_stage", "off", "pilot", "claire", "claire", "week 1")]


def test_the_old_stage_is_read_from_the_database_not_from_a_stale_object(grocery: Category) -> None:
    stale = Category.objects.get(pk=grocery.pk)
    category_set_stage(category=grocery, stage="pilot", actor_name="ops")

    category_set_stage(category=stale, stage="live", actor_name="ops")

    assert [(c[2], c[3]) for c in changes()] == [("off", "pilot"), ("pilot", "live")]


# The services' refusals are said in the reader's language (French, the admin's default); the
# command line says them in English, as the rest of its output (below).
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stage": "open", "actor_name": "ops"}, "'open' n'est pas une étape de déploiement : utilisez off, pilot, live"),
        ({"stage": "live"}, "dites qui fait le changement : un utilisateur, ou un nom d'acteur en ligne de commande"),
        ({"stage": "live", "actor_name": "  "}, "dites qui fait le changement : un utilisateur, ou un nom d'acteur en ligne de commande"),
    ],
)  # fmt: skip
def test_a_bad_stage_or_no_one_to_record_changes_nothing(
    grocery: Category, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(RolloutError) as excinfo:
        category_set_stage(category=grocery, **kwargs)

    assert str(excinfo.value) == message
    assert Category.objects.get(pk=grocery.pk).rollout_stage == "off"
    assert changes() == []


def test_pause_and_resume_are_recorded_once_each_and_keep_what_is_in_progress(
    db: None, staff: AbstractBaseUser
) -> None:
    # Given a reservation in progress and no switch row yet (selling is on)
    held = Reservation.objects.create(client="web", expires_at=timezone.now() + timedelta(minutes=15))
    assert selling_enabled()

    # When selling is paused twice, then resumed twice
    paused = selling_pause(reason="AS400 incident INC-42", user=staff)
    paused_again = selling_pause(reason="still down", user=staff)
    assert not selling_enabled()
    assert SellingSwitch.objects.get().reason == "AS400 incident INC-42"
    resumed = selling_resume(actor_name="ops@host", reason="AS400 back")
    resumed_again = selling_resume(actor_name="ops@host")

    # Then each real change is recorded once, with who and why, and the reservation is untouched
    assert (paused is not None, paused_again, resumed is not None, resumed_again) == (True, None, True, None)
    assert selling_enabled()
    assert changes() == [
        (None, "selling_enabled", "true", "false", "claire", "claire", "AS400 incident INC-42"),
        (None, "selling_enabled", "false", "true", None, "ops@host", "AS400 back"),
    ]
    assert SellingSwitch.objects.count() == 1
    held.refresh_from_db()
    assert held.status == Reservation.Status.ACTIVE


def test_a_pause_needs_a_reason(db: None) -> None:
    with pytest.raises(RolloutError, match="donnez la raison de la suspension de la vente en ligne"):  # staff's French
        selling_pause(reason="   ", actor_name="ops")

    assert selling_enabled()
    assert changes() == []


def test_the_switch_row_that_selling_reads_is_the_one_written(db: None) -> None:
    SellingSwitch.objects.create(selling_enabled=False, reason="set up paused")

    selling_resume(actor_name="ops")

    assert selling_enabled()
    assert SellingSwitch.objects.count() == 1


# --- manage.py rollout ----------------------------------------------------------------------------


def test_set_from_the_command_line_is_recorded_with_the_actor(grocery: Category) -> None:
    out = rollout("set", "f001", "pilot", "--note", "pilot store only")
    assert out.splitlines() == [
        "F001 Épicerie: off → pilot",
        f"Recorded as changed by {command_line_actor()}.",
    ]

    out = rollout("set", "F001", "pilot", "--actor", "claire@laptop")
    assert out.strip() == "F001 is already pilot: nothing changed."
    rollout("set", "F001", "live", "--actor", "claire@laptop")

    assert changes() == [
        ("F001", "rollout_stage", "off", "pilot", None, command_line_actor(), "pilot store only"),
        ("F001", "rollout_stage", "pilot", "live", None, "claire@laptop", ""),
    ]


def test_status_lists_stages_with_product_counts_and_the_switch(grocery: Category, drinks: Category) -> None:
    assert rollout("status").splitlines() == [
        "Online selling: on",
        "family  stage  products  ready safety  name",
        "F001    off           3      1      0  Épicerie",
        "F002    live          0      0      0  Boissons",
        "2 categories: 1 off, 0 pilot, 1 live. Ready: active and mapped products.",
    ]

    rollout("pause", "--reason", "AS400 incident", "--actor", "ops")

    first = rollout("status").splitlines()[0]
    assert first.startswith("Online selling: PAUSED since ")
    assert first.endswith(": AS400 incident")


def test_pause_resume_and_history_from_the_command_line(grocery: Category, drinks: Category) -> None:
    assert rollout("pause", "--reason", "AS400 incident", "--actor", "ops").splitlines() == [
        "Online selling paused: AS400 incident",
        "Recorded as changed by ops.",
    ]
    assert rollout("pause", "--reason", "again", "--actor", "ops").startswith(
        "Online selling was already paused"
    )
    rollout("set", "F001", "pilot", "--actor", "ops", "--note", "first family")
    assert rollout("resume", "--actor", "ops").splitlines() == [
        "Online selling resumed.",
        "Recorded as changed by ops.",
    ]
    assert rollout("resume", "--actor", "ops").strip() == "Online selling was not paused: nothing changed."

    lines = [line[21:] for line in rollout("history").splitlines()]  # without the time
    assert lines == [
        "selling  paused → selling  by ops",
        "F001     off → pilot  by ops  (first family)",
        "selling  selling → paused  by ops  (AS400 incident)",
    ]
    assert [line[21:] for line in rollout("history", "F001").splitlines()] == [
        "F001     off → pilot  by ops  (first family)"
    ]
    assert rollout("history", "F002").strip() == "No change recorded for F002."
    assert len(rollout_history(limit=2)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "F999", "live"], "unknown family 'F999': families come from the AS400 item master"),
        (["set", "F001", "open"], "Error: argument stage: invalid choice: 'open' (choose from 'off', 'pilot', 'live')"),
        (["pause"], "Error: the following arguments are required: --reason"),
        (["pause", "--reason", " "], "give the reason for pausing online selling"),
        (["history", "F999"], "unknown family 'F999': families come from the AS400 item master"),
        (["history", "--limit", "0"], "--limit must be 1 or more"),
        (["stop"], "Error: argument SUBCOMMAND: invalid choice: 'stop' (choose from 'status', 'set', 'pause', 'resume', 'history')"),
    ],
)  # fmt: skip
def test_bad_rollout_arguments_are_a_message_and_change_nothing(
    grocery: Category, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError) as excinfo:
        rollout(*args)

    assert str(excinfo.value) == message
    assert changes() == []
    assert selling_enabled()


# --- A categories file ----------------------------------------------------------------------------


def test_a_categories_file_changes_stages_through_the_service_and_records_the_actor(
    grocery: Category, drinks: Category, tmp_path: Path
) -> None:
    path = tmp_path / "rollout-week-3.csv"
    path.write_text("family_code,rollout_stage\nF001,pilot\nF002,live\n", encoding="utf-8")

    out = StringIO()
    call_command("reference", "import", "categories", str(path), "--actor", "ops@runbook", stdout=out)

    assert out.getvalue().strip() == "categories: 0 new, 1 updated, 1 unchanged, 0 errors"
    assert changes() == [
        ("F001", "rollout_stage", "off", "pilot", None, "ops@runbook", "import of rollout-week-3.csv")
    ]


@pytest.mark.django_db
def test_a_stage_change_touches_its_products_so_updated_since_sees_them() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from inventory.models import Category, Product
    from inventory.rollout import category_set_stage

    category = Category.objects.create(family_code="NEW")
    product = Product.objects.create(item_number="N1", category=category)
    Product.objects.filter(pk=product.pk).update(updated_at=timezone.now() - timedelta(days=3))
    before = timezone.now()

    category_set_stage(category=category, stage="live", actor_name="test")

    product.refresh_from_db()
    assert product.updated_at >= before
