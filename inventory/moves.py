"""Where availability moves, told to whoever listens (the Shopify stock push), without importing it.

Availability (``selectors.availability_by_pair``) moves when a counter of a pair moves: a
reservation taken, released or expired (``reservations._take``), a reservation committed to an
order (``reservation_commit``), an order's in-flight units given back or added (``orders``), a
STKBAL extract applied (``services.stock_apply_extract``), a safety stock changed. Each of those
places calls :func:`availability_moved` with the pairs, in the transaction that moves them, and a
listener registered at start-up (``shopify_channel``'s ``apps.ready``) records them in that same
transaction — so a move and the note that it must be pushed commit together or not at all.

``cause`` names why, as a URI the merchant's inventory history can show
(``gid://platform/Reservation/<id>``, ``gid://platform/Order/<web order number>``,
``gid://platform/StockExtract/<taken at>``...); :func:`cause_uri` builds one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Pair = tuple[int, int]  # (product id, location code), as in selectors
Listener = Callable[[list[Pair], str], None]

_listeners: list[Listener] = []


def availability_listener_register(listener: Listener) -> None:
    """Call ``listener(pairs, cause)`` wherever availability moves (once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


def availability_listening() -> bool:
    """Whether anyone listens: a caller may skip gathering pairs that nobody would read."""
    return bool(_listeners)


def availability_moved(pairs: Iterable[Pair], *, cause: str) -> None:
    """These pairs' availability may have moved, for ``cause``; in the caller's transaction."""
    if not _listeners:
        return
    moved = list(dict.fromkeys(pairs))
    if not moved:
        return
    for listener in _listeners:
        listener(moved, cause)


def cause_uri(kind: str, identifier: object) -> str:
    """``gid://platform/<kind>/<identifier>``: what moved the stock, for an inventory history."""
    return f"gid://platform/{kind}/{identifier}"
