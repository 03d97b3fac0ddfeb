"""What webhooks miss: the poll's cursor, and its schedules — the orders poll every 5 minutes, the
webhook subscriptions checked every hour (also at start: manage.py shopify_subscriptions_ensure)."""

from django.db import migrations, models

SCHEDULES = {
    "Shopify orders poll": ("shopify_channel.tasks.shopify_orders_poll", 5),
    "Shopify subscriptions check": ("shopify_channel.tasks.shopify_subscriptions_ensure", 60),
}


def create_schedules(apps, schema_editor):  # type: ignore[no-untyped-def]
    for name, (func, minutes) in SCHEDULES.items():
        apps.get_model("django_q", "Schedule").objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('shopify_channel', '0003_push_schedules'),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name='PollCursor',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=40, unique=True)),
                ('updated_at', models.DateTimeField(blank=True, help_text="Shopify's updatedAt of the last order applied in order (empty: never)", null=True)),
                ('last_run_at', models.DateTimeField(blank=True, null=True)),
                ('last_seen', models.PositiveIntegerField(default=0, help_text='Orders the last run read')),
                ('last_applied', models.PositiveIntegerField(default=0, help_text='…of which new or changed here')),
                ('last_error', models.TextField(blank=True)),
            ],
            options={
                'verbose_name': 'curseur de relève Shopify',
                'verbose_name_plural': 'curseurs de relève Shopify',
            },
        ),
        migrations.RunPython(create_schedules, delete_schedules),
    ]
