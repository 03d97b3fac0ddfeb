"""The admin's money and moments in templates: ``{% load admin_formats %}`` then ``{{ total|euros }}``,
``{{ at|paris }}``, ``{{ at|simulator_time }}`` (see integration.core.admin_formats)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import template

from integration.core import admin_formats

register = template.Library()


@register.filter
def euros(amount: Decimal | int | float | str | None) -> str:
    return admin_formats.euros(amount)


@register.filter
def paris(moment: datetime | None) -> str:
    return admin_formats.paris(moment)


@register.filter
def simulator_time(moment: datetime | None) -> str:
    return admin_formats.simulator_time(moment, seconds=True)
