"""The morning's safety net: every day at 06:30 Paris, the night is reconciled if nothing did it."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import migrations
from django.utils import timezone

NAME = "Reconciliation fallback"


def create_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    paris = ZoneInfo("Europe/Paris")
    now = timezone.now().astimezone(paris)
    first = datetime.combine(now.date(), time(6, 30), tzinfo=paris)
    if first <= now:
        first = datetime.combine(now.date() + timedelta(days=1), time(6, 30), tzinfo=paris)
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={"func": "reconciliation.tasks.reconcile_fallback", "schedule_type": "D", "repeats": -1,
                  "next_run": first},
    )


def delete_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("reconciliation", "0001_initial"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(create_schedule, delete_schedule)]
