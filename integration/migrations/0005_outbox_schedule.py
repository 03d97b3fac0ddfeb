"""The outbox dispatcher: every minute, follow up on what was sent, then send what is pending."""

from django.db import migrations

NAME = "Outbox dispatch"


def create_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={"func": "integration.tasks.outbox_dispatch", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("integration", "0004_outbox")]
    operations = [migrations.RunPython(create_schedule, delete_schedule)]
