from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _task_started(sender: object, func: object, task: dict[str, Any], **kwargs: object) -> None:
    """A django-q2 worker starts a task: its lines carry the task (the function's dotted name)."""
    from integration.core.log_context import log_task_set

    name = task.get("func")
    log_task_set(name if isinstance(name, str) else getattr(func, "__qualname__", str(func)))


def _task_done(sender: object, func: object, task: dict[str, Any], **kwargs: object) -> None:
    from integration.core.log_context import log_task_set

    log_task_set(None)


class IntegrationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integration"
    verbose_name = _("Integration (AS400 exchange)")

    def ready(self) -> None:
        from django_q.signals import post_execute_in_worker, pre_execute

        pre_execute.connect(_task_started, dispatch_uid="integration.log_task_started")
        post_execute_in_worker.connect(_task_done, dispatch_uid="integration.log_task_done")

        # A storefront client found by its token is kept a moment per process; any save or delete
        # of a client forgets them all (integration.core.reference_cache).
        from integration.core.reference_cache import reference_forget_on_change
        from integration.models import StorefrontClient
        from integration.storefront.clients import CLIENT_BY_TOKEN

        reference_forget_on_change(StorefrontClient, CLIENT_BY_TOKEN, prefix=True)

        # Dead messages, quarantined files, late extracts... on the admin's home page.
        from integration.monitoring import home

        home.register()
