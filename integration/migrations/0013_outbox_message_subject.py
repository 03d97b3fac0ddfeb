"""An outbox message names what it is about by an opaque ``subject`` (its order's id) instead of a
foreign key to ``orders.Order``: the ground app's schema depends on no domain app.

The subject is filled from the key in one statement (and the key from the subject going back), so
the migration is reversible and its time does not grow with one query per message.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def subject_from_order(apps, schema_editor):
    OutboxMessage = apps.get_model("integration", "OutboxMessage")
    OutboxMessage.objects.update(subject=models.F("order_id"))


def order_from_subject(apps, schema_editor):
    OutboxMessage = apps.get_model("integration", "OutboxMessage")
    Order = apps.get_model("orders", "Order")
    # Only a subject that still names an order: a key to nothing could not be written back.
    OutboxMessage.objects.update(order_id=Subquery(Order.objects.filter(pk=OuterRef("subject")).values("pk")))


class Migration(migrations.Migration):

    dependencies = [
        ('integration', '0012_outbox_message_left_in_failed_write'),
        ('orders', '0001_initial'),  # the key it replaces, read while filling the subject
    ]

    operations = [
        migrations.AddField(
            model_name='outboxmessage',
            name='subject',
            field=models.PositiveBigIntegerField(default=0, db_index=True, help_text="What the message is about, as the app that wrote it numbers it (an order's id): the outbox only compares it, to send a message after its subject's acknowledged ORDIMP"),
            preserve_default=False,
        ),
        # Nullable first, so that going back can add it again to rows that exist, then fill it.
        migrations.AlterField(
            model_name='outboxmessage',
            name='order',
            field=models.ForeignKey(null=True, on_delete=models.PROTECT, related_name='outbox_messages', to='orders.order'),
        ),
        migrations.RunPython(subject_from_order, order_from_subject),
        migrations.RemoveField(
            model_name='outboxmessage',
            name='order',
        ),
    ]
