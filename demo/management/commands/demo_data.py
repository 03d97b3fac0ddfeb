"""`manage.py demo_data`: the admin login and a seeded simulator, for the embedded setup. Idempotent."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from demo.services import (
    SIMULATOR_COMMAND,
    demo_admin_load,
    demo_catalogue_load,
    demo_reconciliation_load,
    demo_simulator_seed,
    demo_storefront_client_load,
)


class Command(BaseCommand):
    help = (
        "Creates the superuser 'admin' (or resets its password) and seeds the AS400 simulator. "
        "The password is DEMO_ADMIN_PASSWORD, else generated once and kept in var/demo-admin-password."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--skip-simulator", action="store_true", help="Only the admin login; leave the simulator alone."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        admin = demo_admin_load(
            var_dir=settings.VAR_DIR, env_password=os.environ.get("DEMO_ADMIN_PASSWORD") or None
        )
        action = "created" if admin.created else "already there: password reset"
        self.stdout.write(f"Superuser {admin.username!r} {action}; password from {admin.password_source}.")
        self.stdout.write(demo_storefront_client_load(var_dir=settings.VAR_DIR))
        if options["skip_simulator"]:
            return
        if demo_simulator_seed(stdout=self.stdout):
            self.stdout.write("AS400 simulator seeded (or already seeded).")
            for line in demo_catalogue_load():
                self.stdout.write(line)
            self.stdout.write(demo_reconciliation_load())
            from demo.shopify import demo_shopify_load

            for line in demo_shopify_load(now=timezone.now()):
                self.stdout.write(line)
        else:
            warning = f"No {SIMULATOR_COMMAND!r} command yet: the AS400 simulator was not seeded."
            self.stderr.write(self.style.WARNING(warning))
