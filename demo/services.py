"""Demo data for the embedded setup: an admin login and a seeded AS400 simulator.

Every function here is idempotent, so that `bin/run` can call `manage.py demo_data` at each start.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import OutputWrapper
from django.db import transaction

DEMO_ADMIN_USERNAME = "admin"
PASSWORD_FILE_NAME = "demo-admin-password"
SIMULATOR_COMMAND = "as400_simulator"


@dataclass(frozen=True)
class DemoAdmin:
    username: str
    created: bool
    # Where the password comes from: "DEMO_ADMIN_PASSWORD", or the file that keeps it.
    password_source: str


def demo_admin_password(*, env_value: str | None, password_file: Path) -> tuple[str, str]:
    """The admin's password and where it comes from.

    DEMO_ADMIN_PASSWORD wins when set; otherwise a password is generated once and kept in
    `password_file`, readable by its owner only, so that later runs (and `bin/run`, which prints
    it) find the same one.
    """
    if env_value:
        return env_value, "DEMO_ADMIN_PASSWORD"
    if password_file.exists():
        os.chmod(password_file, 0o600)
        stored = password_file.read_text(encoding="utf-8").strip()
        if stored:
            return stored, str(password_file)
    password = secrets.token_urlsafe(12)
    password_file.parent.mkdir(parents=True, exist_ok=True)
    # Created with mode 600 from the start: never readable by others, not even for a moment.
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    return password, str(password_file)


@transaction.atomic
def demo_admin_ensure(*, username: str, password: str) -> bool:
    """Creates the superuser, or makes it an active superuser again with this password.

    Returns True when the user was created.
    """
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username, defaults={"email": f"{username}@localhost"}
    )
    user.is_active = True
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    return created


def demo_simulator_seed(*, stdout: TextIO | OutputWrapper) -> bool:
    """Seeds the AS400 simulator (its `seed` is idempotent). False when the simulator is missing."""
    if SIMULATOR_COMMAND not in get_commands():
        return False
    call_command(SIMULATOR_COMMAND, "seed", stdout=stdout)
    return True


DEMO_LIVE_FAMILIES = 3  # the first families rolled out live, and the next one as a pilot


def demo_catalogue_load() -> list[str]:
    """The stores and the warehouse, the simulator's nightly extracts applied now, a few families open.

    Idempotent: extracts already applied are not applied again, and the rollout is only set
    the first time (while no family is open yet), recorded as done by ``demo_data``.
    """
    from integration.as400.simulator.engine import Simulator
    from integration.as400.sync import exchange_sync
    from inventory.models import Category
    from inventory.reference import locations_seed_default
    from inventory.rollout import category_set_stage

    done = [f"{locations_seed_default()} locations created"]
    with Simulator.from_settings() as simulator:
        exported = simulator.initial_exports()
    done.append(f"{len(exported)} nightly extracts written by the simulator")
    done += exchange_sync().lines()
    named = demo_category_names()
    if named:
        done.append(f"{named} families named as the simulator's catalogue names them")
    if not Category.objects.exclude(rollout_stage=Category.Stage.OFF).exists():
        families = list(Category.objects.order_by("family_code")[: DEMO_LIVE_FAMILIES + 1])
        for n, category in enumerate(families):
            stage = Category.Stage.LIVE if n < DEMO_LIVE_FAMILIES else Category.Stage.PILOT
            category_set_stage(category=category, stage=stage, actor_name="demo_data", note="demo rollout")
            done.append(f"family {category.family_code} set {stage}")
    return done


def demo_category_names() -> int:
    """Names the families the AS400 created without one (ITMMST carries only IMFAMC, the code), with
    the simulator's labels (« Animalerie » for ANIM), as staff would by importing the categories
    file; a name already given is kept. The number of families named."""
    from integration.as400.simulator.catalogue import FAMILIES
    from inventory.models import Category
    from inventory.services import category_details_update

    labels = {family.code: family.name for family in FAMILIES}
    named = 0
    for category in Category.objects.filter(name="", family_code__in=labels).order_by("family_code"):
        category_details_update(
            category=category, name=labels[category.family_code], safety_stock=category.safety_stock
        )
        named += 1
    return named


def demo_reconciliation_load() -> str:
    """The night of the extracts just applied, reconciled once, so the reconciliation pages show a
    real run (what the demo catalogue holds: products without content, delisted items still mapped...).
    Idempotent: done only while no run exists."""
    from reconciliation.models import Run
    from reconciliation.services import reconcile

    if Run.objects.exists():
        return "Reconciliation: already run."
    run = reconcile(trigger="demo", by="demo_data")
    return f"Reconciliation: {run}, {run.found} discrepancies found ({run.get_outcome_display()})."


def demo_admin_load(*, var_dir: Path, env_password: str | None) -> DemoAdmin:
    """The demo admin login: password chosen (or read back), user created or reset."""
    password, source = demo_admin_password(env_value=env_password, password_file=var_dir / PASSWORD_FILE_NAME)
    created = demo_admin_ensure(username=DEMO_ADMIN_USERNAME, password=password)
    return DemoAdmin(username=DEMO_ADMIN_USERNAME, created=created, password_source=source)


DEMO_CLIENT_NAME = "demo-storefront"
TOKEN_FILE_NAME = "demo-storefront-token"


def demo_storefront_client_load(*, var_dir: Path) -> str:
    """A storefront client with every scope (pilot categories included) for trying the API.

    Its token is kept in ``var/demo-storefront-token`` (mode 600) so that ``bin/run`` can print it;
    it is rotated only when that file no longer matches the client. Returns what was done.
    """
    from integration.models import StorefrontClient
    from integration.storefront.clients import (
        SCOPES,
        storefront_client_by_token,
        storefront_client_create,
        storefront_client_rotate,
    )

    token_file = var_dir / TOKEN_FILE_NAME
    stored = token_file.read_text(encoding="utf-8").strip() if token_file.exists() else ""
    client = StorefrontClient.objects.filter(name=DEMO_CLIENT_NAME).first()
    if client is not None and stored and storefront_client_by_token(stored) == client:
        return f"Storefront client {DEMO_CLIENT_NAME!r} already there; token in {token_file}."
    if client is None:
        client, token = storefront_client_create(name=DEMO_CLIENT_NAME, scopes=SCOPES, can_see_pilot=True)
        done = "created"
    else:
        client, token = storefront_client_rotate(client=client)
        done = "given a new token"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return f"Storefront client {DEMO_CLIENT_NAME!r} {done}; token in {token_file}."
