"""Return authorisation numbers (RMA): 12 characters, as RIRMA holds them, and unique."""

from __future__ import annotations

import secrets
import string

from returns.models import Return

ALPHABET = string.digits + string.ascii_uppercase
PREFIX = {Return.Source.WEB: "W", Return.Source.STORE: "S", Return.Source.AS400: "A"}


def rma_new(source: str) -> str:
    """A fresh RMA: one letter for where the return comes from, then 11 random base-36 characters.

    36**11 is about 1.3e17 numbers, so a clash is all but impossible; the unique constraint on
    ``Return.rma`` turns the remaining chance into an error rather than a merge, and the caller
    (inside its transaction) may simply try again.
    """
    return PREFIX[Return.Source(source)] + "".join(secrets.choice(ALPHABET) for _ in range(11))
