"""The one base of the domain's errors: a refused operation, with a code, a message and a detail.

Every domain app raises its refusals as a subclass (``inventory.errors``, ``orders.errors``,
``returns.errors``, the attention desks of ``orders`` and ``returns``), each with its own codes:

- ``code``: stable and machine-readable; callers branch on it, never on the message;
- the message (``str(error)``): for people, its wording may change;
- ``detail``: an object whose keys depend on the code, or None.

A domain error knows nothing of HTTP. Which status answers which code is the API's business and
lives in one table, ``integration.storefront.clients.api.errors.STATUS_BY_CODE``.
"""

from __future__ import annotations

from typing import Any

#: The one code of an Idempotency-Key used again with other content, whatever the operation (a
#: reservation, an order, a cancellation, a return): each app's codes name it, and the detail says
#: what the key was used for.
IDEMPOTENCY_KEY_CONFLICT = "idempotency_key_conflict"


class DomainError(Exception):
    """A refused operation: ``code`` for machines, the message for people, ``detail`` or None."""

    #: The code of a subclass's refusals when the raiser names none.
    code: str = "invalid"

    def __init__(self, message: str, *, code: str | None = None, detail: Any = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.detail = detail
