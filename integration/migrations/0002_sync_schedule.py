"""The schedule that picks up the AS400's exports: every minute, one run at a time."""

from django.db import migrations

SYNC_TASK = "integration.tasks.as400_sync"


def create_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="AS400 exports sync",
        defaults={"func": SYNC_TASK, "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.filter(name="AS400 exports sync").delete()


class Migration(migrations.Migration):
    dependencies = [("integration", "0001_initial"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(create_schedule, delete_schedule)]
