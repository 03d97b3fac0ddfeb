"""Rollout: each category's stage and the global selling switch, and the record of who changed them.

A category is ``off``, ``pilot`` or ``live`` (see ARCHITECTURE.md, Rollout); the switch pauses all
online selling without touching carts or orders in progress (it only makes new reservations and
orders refuse). Every change goes through :func:`category_set_stage`, :func:`selling_pause` or
:func:`selling_resume`, whether it comes from the admin, an import or the command line, so that
each one is recorded once, with who made it. Asking for the state something is already in changes
nothing and records nothing.

Who: a Django ``user`` (the admin, an admin import) or, from the command line, an ``actor_name``
such as ``alice@host``. One of the two is required.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from inventory.locks import categories_locked, selling_switch_locked
from inventory.models import Category, Product, RolloutChange, SellingSwitch

STAGE_FIELD = "rollout_stage"
SWITCH_FIELD = "selling_enabled"
NOTE_LENGTH = RolloutChange._meta.get_field("note").max_length or 200
REASON_LENGTH = SellingSwitch._meta.get_field("reason").max_length or 200


class RolloutError(ValueError):
    """A rollout request that cannot be carried out; the message says why, for people."""


def _who(user: Any, actor_name: str) -> str:
    if user is not None:
        return user.get_username()
    if not actor_name.strip():
        raise RolloutError(gettext("say who makes the change: a user, or an actor name on the command line"))
    return actor_name.strip()


def _cut(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


# --- Category stages -----------------------------------------------------------------------------


def category_set_stage(
    *,
    category: Category,
    stage: str,
    user: Any = None,
    actor_name: str = "",
    note: str = "",
    now: datetime | None = None,
) -> RolloutChange | None:
    """Move ``category`` to ``stage`` and record who did it; ``None`` when it already was there.

    The category's row is locked while its current stage is read, so that two concurrent changes
    record two consecutive transitions, never two from the same old stage. ``category`` is
    refreshed with the stage it ends at.
    """
    if stage not in Category.Stage.values:
        raise RolloutError(
            gettext("{stage!r} is not a rollout stage: use {stages}").format(
                stage=stage, stages=", ".join(Category.Stage.values)
            )
        )
    who = _who(user, actor_name)
    now = now or timezone.now()
    with transaction.atomic():
        current = categories_locked().get(pk=category.pk)
        old = current.rollout_stage
        category.rollout_stage = stage
        if old == stage:
            return None
        Category.objects.filter(pk=category.pk).update(rollout_stage=stage)
        # Its products appear to (or vanish from) the storefront now: `updated_since` must see them.
        Product.objects.filter(category=current).update(updated_at=now)
        return RolloutChange.objects.create(
            category=current,
            what=STAGE_FIELD,
            old_value=old,
            new_value=stage,
            note=_cut(note, NOTE_LENGTH),
            changed_by=user,
            changed_by_name=who,
            changed_at=now,
        )


# --- The global selling switch --------------------------------------------------------------------


def _switch_for_update(now: datetime) -> SellingSwitch:
    """The switch's row, locked; created (selling) when there is none yet.

    ``selectors.selling_enabled`` reads the first row by primary key, so that is the row written.
    """
    switch = selling_switch_locked().order_by("pk").first()
    if switch is None:
        # Two first changes at once may each create a row; both then lock the first one.
        SellingSwitch.objects.create(selling_enabled=True, updated_at=now)
        switch = selling_switch_locked().order_by("pk").first()
    assert switch is not None
    return switch


def _switch_change(old: bool, new: bool, note: str, user: Any, who: str, now: datetime) -> RolloutChange:
    return RolloutChange.objects.create(
        what=SWITCH_FIELD,
        old_value=str(old).lower(),
        new_value=str(new).lower(),
        note=_cut(note, NOTE_LENGTH),
        changed_by=user,
        changed_by_name=who,
        changed_at=now,
    )


def selling_pause(
    *, reason: str, user: Any = None, actor_name: str = "", now: datetime | None = None
) -> RolloutChange | None:
    """Pause all online selling, saying why; ``None`` when it was already paused (its reason stays).

    Nothing in progress is lost: reservations keep their units until they expire or are
    released, orders already taken go on to the AS400; only new takes are refused.
    """
    reason = _cut(reason, REASON_LENGTH)
    if not reason:
        raise RolloutError(gettext("give the reason for pausing online selling"))
    who = _who(user, actor_name)
    now = now or timezone.now()
    with transaction.atomic():
        switch = _switch_for_update(now)
        if not switch.selling_enabled:
            return None
        switch.selling_enabled, switch.reason, switch.updated_at = False, reason, now
        switch.save(update_fields=["selling_enabled", "reason", "updated_at"])
        return _switch_change(True, False, reason, user, who, now)


def selling_resume(
    *, reason: str = "", user: Any = None, actor_name: str = "", now: datetime | None = None
) -> RolloutChange | None:
    """Resume online selling; ``None`` when it was not paused."""
    who = _who(user, actor_name)
    now = now or timezone.now()
    with transaction.atomic():
        switch = _switch_for_update(now)
        if switch.selling_enabled:
            return None
        switch.selling_enabled, switch.reason, switch.updated_at = True, "", now
        switch.save(update_fields=["selling_enabled", "reason", "updated_at"])
        return _switch_change(False, True, reason, user, who, now)


# --- Reads for the command line and the admin -----------------------------------------------------


@dataclass(frozen=True)
class CategoryStatus:
    family_code: str
    name: str
    stage: str
    safety_stock: int
    products: int
    ready: int  # active and mapped: what sells once the stage lets it


@dataclass(frozen=True)
class SwitchStatus:
    selling_enabled: bool
    reason: str
    since: datetime | None


@dataclass(frozen=True)
class RolloutStatus:
    switch: SwitchStatus
    categories: list[CategoryStatus]


def switch_status() -> SwitchStatus:
    switch = SellingSwitch.objects.order_by("pk").first()
    if switch is None:
        return SwitchStatus(selling_enabled=True, reason="", since=None)
    last = RolloutChange.objects.filter(what=SWITCH_FIELD).order_by("-changed_at", "-pk").first()
    return SwitchStatus(
        selling_enabled=switch.selling_enabled,
        reason=switch.reason,
        since=last.changed_at if last else switch.updated_at,
    )


def rollout_status() -> RolloutStatus:
    """Every category's stage with its product counts, and the switch."""
    ready = Q(products__status=Product.Status.ACTIVE, products__mapping__isnull=False)
    categories = Category.objects.annotate(
        product_count=Count("products", distinct=True),
        ready_count=Count("products", filter=ready, distinct=True),
    ).order_by("family_code")
    return RolloutStatus(
        switch=switch_status(),
        categories=[
            CategoryStatus(
                family_code=c.family_code,
                name=c.name,
                stage=c.rollout_stage,
                safety_stock=c.safety_stock,
                products=c.product_count,  # type: ignore[attr-defined]
                ready=c.ready_count,  # type: ignore[attr-defined]
            )
            for c in categories
        ],
    )


def rollout_history(*, family_code: str | None = None, limit: int = 50) -> list[RolloutChange]:
    """The newest changes first: one category's stages, or every stage and switch change."""
    changes = RolloutChange.objects.select_related("category", "changed_by").order_by("-changed_at", "-pk")
    if family_code is not None:
        changes = changes.filter(category__family_code=family_code)
    return list(changes[:limit])


def category_find(*, family_code: str) -> Category:
    """The category of an AS400 family, as typed by a person (``f001`` finds ``F001``)."""
    code = family_code.strip()
    category = (
        Category.objects.filter(family_code=code).first()
        or Category.objects.filter(family_code=code.upper()).first()
    )
    if category is None:
        raise RolloutError(
            gettext("unknown family {code!r}: families come from the AS400 item master").format(code=code)
        )
    return category
