"""Shopify's periodic work: every minute, send the due calls to Shopify and apply the webhook events
left unapplied (a worker stopped, a handler failed); both also run at once after their commit."""

from django.db import migrations

SCHEDULES = {
    "Shopify calls": "integration.shopify.tasks.shopify_calls_send",
    "Shopify webhooks sweep": "integration.shopify.tasks.webhook_events_sweep",
}


def create_schedules(apps, schema_editor):  # type: ignore[no-untyped-def]
    for name, func in SCHEDULES.items():
        apps.get_model("django_q", "Schedule").objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("shopify", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(create_schedules, delete_schedules)]
