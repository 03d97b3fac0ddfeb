"""The Shopify pushes' sweeps: stock every minute (moves also queue a push at once), catalogue every 5."""

from django.db import migrations

SCHEDULES = {
    "Shopify stock push": ("shopify_channel.tasks.shopify_stock_push", 1),
    "Shopify catalogue push": ("shopify_channel.tasks.shopify_catalogue_push", 5),
}


def create_schedules(apps, schema_editor):  # type: ignore[no-untyped-def]
    for name, (func, minutes) in SCHEDULES.items():
        apps.get_model("django_q", "Schedule").objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [("shopify_channel", "0002_catalogue_stock"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(create_schedules, delete_schedules)]
