"""Why a customer sends goods back: the reason codes a web return carries to the AS400 (RIRSN, 4 characters).

A fixed list, so that the warehouse and the stores can act on the code (a defective item is
inspected, a changed mind goes back to stock). The customer's own words go in the return's
comment, which stays here and is not sent.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReturnReason(models.TextChoices):
    DEFECTIVE = "DEFE", _("Defective")
    DAMAGED = "ABIM", _("Damaged in delivery")
    WRONG_ITEM = "ERRA", _("Not the item ordered")
    WRONG_SIZE = "TAIL", _("Wrong size")
    NOT_AS_DESCRIBED = "NCON", _("Not as described")
    CHANGED_MIND = "RETR", _("Changed mind (withdrawal)")
    OTHER = "AUTR", _("Other (see the comment)")


def reasons_described() -> str:
    """The codes and their meaning as a Markdown list (the OpenAPI document's)."""
    return "\n".join(f"- `{code}`: {label}" for code, label in ReturnReason.choices)
