"""The storefronts' webhooks: every minute, send the due deliveries (events also queue a run at once)."""

from django.db import migrations

NAME = "Webhooks delivery"


def create_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={"func": "integration.tasks.webhooks_deliver", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("integration", "0006_webhooks")]
    operations = [migrations.RunPython(create_schedule, delete_schedule)]
