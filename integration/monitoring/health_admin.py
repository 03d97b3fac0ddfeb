"""The outbox's health in the admin: the figures of :func:`integration.monitoring.health.outbox_health`.

A custom, staff-only admin view (no model), hooked into an :class:`~django.contrib.admin.AdminSite`
by :func:`register_health_admin` with an "Outbox health" entry in the integration app's index, as
the simulator's page is. It shows the same figures and problems as ``GET /health/outbox``, with
links to the lists where they can be dealt with; it holds no rule of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integration.core.admin_formats import paris
from integration.core.admin_pages import register_admin_page
from integration.monitoring.health import outbox_health

URL_NAME = "outbox_health"
TEMPLATE = "admin/integration/outbox_health.html"
TITLE = _("Outbox health")
PERMISSION = "integration.view_outboxmessage"  # the page shows the outbox's figures


def health_page(site: admin.AdminSite) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        health = outbox_health(now=now)
        context: dict[str, Any] = {
            **site.each_context(request),
            "title": TITLE,
            "health": health,
            "at": paris(now, seconds=True),  # the figures' moment in Paris time, not health.now's ISO UTC
            "figures": health.as_dict(),
        }
        return TemplateResponse(request, TEMPLATE, context)

    return view


def register_health_admin(site: admin.AdminSite) -> None:
    """Add the page to ``site``: its URL and an index entry, for those who may view outbox messages."""
    register_admin_page(
        site, route="outbox-health/", url_name=URL_NAME, title=TITLE, object_name="OutboxHealth",
        view=health_page(site), permission=PERMISSION,
    )  # fmt: skip
