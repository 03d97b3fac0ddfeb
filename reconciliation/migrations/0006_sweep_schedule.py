"""The reconciliation's sweep: every 5 minutes, a run whose worker died is run again (not at 06:30)."""

from django.db import migrations
from django.utils import timezone

NAME = "Reconciliation sweep"


def create_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={"func": "reconciliation.tasks.reconcile_sweep", "schedule_type": "I", "minutes": 5,
                  "repeats": -1, "next_run": timezone.now()},
    )  # fmt: skip


def delete_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("reconciliation", "0005_roles")]
    operations = [migrations.RunPython(create_schedule, delete_schedule)]
