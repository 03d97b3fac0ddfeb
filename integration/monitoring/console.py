"""The admin's home page: what needs a person now, as counts that link to their lists, and charts.

``integration`` imports no domain app, yet the home page shows orders, returns, discrepancies and
the rollout: each app registers its own figures here at start-up (its ``apps.ready``), as it
registers its appliers and hooks (see docs/ARCHITECTURE.md, "registries"):

- :func:`tile_register`: a :class:`Tile`, one count and the admin list it links to, filtered to
  exactly what was counted;
- :func:`chart_register`: a :class:`Chart`, an inline SVG drawn on the server from the data
  (:mod:`integration.monitoring.charts`): no script, no CDN.

:func:`home_for` reads them all at one ``now`` for one user: a figure is shown only to those
holding its permission, and those of the user's role (:data:`ROLES`, by group) come first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The roles, as the groups an administrator puts people in (created by reconciliation's migrations
# 0003 and 0004, which list what each may do). Keys are what figures name; values the groups' names.
BUSINESS = "business"
OPERATIONS = "operations"
SUPPORT = "support"
ROLES: dict[str, str] = {BUSINESS: "Équipe commerce", OPERATIONS: "Exploitation", SUPPORT: "Support"}
ROLE_LABELS: dict[str, Promise] = {
    BUSINESS: _("Business staff"),
    OPERATIONS: _("Operations"),
    SUPPORT: _("Support (read only)"),
}


@dataclass(frozen=True)
class Figure:
    """What a tile shows at ``now``: a count, and a word on it (empty when the count says it all)."""

    count: int
    detail: str = ""
    # Whether the count asks for someone: an attention tile drawn in the warning colour.
    alarm: bool | None = None

    def needs_someone(self) -> bool:
        return self.count > 0 if self.alarm is None else self.alarm


@dataclass(frozen=True)
class Tile:
    """One count on the home page, linking to the admin list where each counted thing is."""

    key: str
    label: Promise | str
    read: Callable[[datetime], Figure]
    url: Callable[[], str]  # the filtered list (reversed at request time: the URLconf is loaded then)
    permission: str  # "app_label.codename": who sees the tile
    roles: tuple[str, ...]  # whose home shows it first
    order: int = 100  # within a role's tiles, smaller first
    enabled: Callable[[], bool] | None = None  # a deployment without the thing has no tile


@dataclass(frozen=True)
class Chart:
    """One chart of the home page: ``draw(now)`` returns its SVG (safe markup) and a caption."""

    key: str
    title: Promise | str
    draw: Callable[[datetime], tuple[str, str]]
    permission: str
    roles: tuple[str, ...]
    order: int = 100


@dataclass
class Shown:
    """A tile or chart as read for one request."""

    key: str
    title: str
    first: bool  # of the user's role
    figure: Figure | None = None
    url: str = ""
    svg: str = ""
    caption: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_TILES: dict[str, Tile] = {}
_CHARTS: dict[str, Chart] = {}


def tile_register(tile: Tile) -> None:
    """Add ``tile`` to the home page (again under the same key: replaced, so a reload is harmless)."""
    _TILES[tile.key] = tile


def chart_register(chart: Chart) -> None:
    _CHARTS[chart.key] = chart


def registered_tiles() -> list[Tile]:
    return sorted(_TILES.values(), key=lambda t: (t.order, t.key))


def user_roles(user: Any) -> list[str]:
    """The roles of ``user`` by their groups; a superuser has them all, in the order of ROLES."""
    if user.is_superuser:
        return list(ROLES)
    names = set(user.groups.values_list("name", flat=True))
    return [role for role, group in ROLES.items() if group in names]


def _first(roles: tuple[str, ...], mine: list[str]) -> bool:
    return any(role in roles for role in mine)


def home_for(user: Any, *, now: datetime) -> dict[str, Any]:
    """The home page of ``user`` at ``now``: the tiles and charts it may see, its role's first."""
    mine = user_roles(user)
    tiles = [
        Shown(key=t.key, title=str(t.label), first=_first(t.roles, mine), figure=t.read(now), url=t.url())
        for t in registered_tiles()
        if user.has_perm(t.permission) and (t.enabled is None or t.enabled())
    ]
    charts = []
    for c in sorted(_CHARTS.values(), key=lambda c: (c.order, c.key)):
        if user.has_perm(c.permission):
            svg, caption = c.draw(now)
            charts.append(
                Shown(key=c.key, title=str(c.title), first=_first(c.roles, mine), svg=svg, caption=caption)
            )
    # The role's figures first; among them and among the rest, the registered order stays.
    tiles.sort(key=lambda s: not s.first)
    charts.sort(key=lambda s: not s.first)
    return {
        "roles": [str(ROLE_LABELS[r]) for r in mine if not user.is_superuser],
        "tiles": tiles,
        "charts": charts,
        "now": now,
    }
