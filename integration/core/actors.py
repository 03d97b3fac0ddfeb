"""Who did it: the name a service records for the user who asked (staff in the admin), or a
default when nobody did (a task, the system)."""

from __future__ import annotations


def actor_name(user: object | None, *, default: str = "system") -> str:
    """``user.get_username()`` when there is one, else ``default``."""
    name = getattr(user, "get_username", None)
    return (name() if callable(name) else "") or default
