from datetime import datetime

from django.apps import AppConfig
from django.db import transaction
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        # An ORDIMP written to the AS400's folder: its orders are sent (see orders.services).
        from integration.outbox.dispatch import sent_hook_register

        sent_hook_register("ORDIMP", _sent)
        # ORDACK, ORDSTS and STRRTN are applied by orders, and a STKBAL settles in-flight units
        # (see integration.as400.appliers).
        from orders import as400_exports, as400_imports

        as400_exports.register()
        # How its ORDIMP and ORDANN messages become records (see integration.outbox.dispatch).
        as400_imports.register()
        # The orders' figures of /metrics (see integration.monitoring.metrics).
        from integration.monitoring.metrics import metrics_register
        from orders.metrics import orders_metrics

        metrics_register("orders", orders_metrics)

        # Orders needing attention and orders per hour on the admin's home page.
        from orders import console

        console.register()


def _sent(message_ids: list[int], now: datetime) -> None:
    from orders.services import orders_mark_sent

    # After the file's transaction commits, and in a transaction of its own (see orders_mark_sent).
    # Robust: the file is written whatever happens here; a failure is logged, and the ORDACK still
    # moves the order on (placed → accepted).
    transaction.on_commit(lambda: orders_mark_sent(message_ids=message_ids, now=now), robust=True)
