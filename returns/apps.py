from datetime import datetime

from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "returns"

    def ready(self) -> None:
        # An RTNIMP written to the AS400's folder announces its return (see returns.services).
        from integration.outbox import sent_hook_register

        sent_hook_register("RTNIMP", _announce)


def _announce(message_ids: list[int], now: datetime) -> int:
    from returns.services import returns_announce

    return returns_announce(message_ids=message_ids, now=now)
