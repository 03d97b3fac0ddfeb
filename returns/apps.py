from datetime import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "returns"
    verbose_name = _("Returns")

    def ready(self) -> None:
        # An RTNIMP written to the AS400's folder announces its return (see returns.services).
        from integration.outbox.dispatch import sent_hook_register

        sent_hook_register("RTNIMP", _announce)
        # How its RTNIMP messages become records.
        from returns import as400_imports

        as400_imports.register()
        # The returns that ORDSTS R and STRRTN R receive are ours (orders does not import returns).
        from orders.returns_port import returns_receiver_register
        from returns.receipts import OrdersReturnsReceiver

        returns_receiver_register(OrdersReturnsReceiver())
        # An order with an overdue web return needs attention (orders.attention tells the others).
        from orders.attention import Reason, attention_condition_register
        from returns.attention import order_has_overdue_return

        attention_condition_register(Reason.OVERDUE_RETURN, order_has_overdue_return)

        # Overdue web returns on the admin's home page.
        from returns import console

        console.register()


def _announce(message_ids: list[int], now: datetime) -> int:
    from returns.services import returns_announce

    return returns_announce(message_ids=message_ids, now=now)
