"""How the admin writes money and moments: one home, so that every page says them alike.

- **Money in euros**, in the reader's language: « 1 234,50 € » in French, « €1,234.50 » in English
  (:func:`euros`). Every admin column or table that shows an amount goes through it.
- **Moments in Paris time, in one format** (:func:`paris`): the admin's own datetime columns are
  already Paris time (``TIME_ZONE``) in the format of ``config/formats`` (``DATETIME_FORMAT``);
  this is the same for the moments a page writes itself (an order's storefront events, the
  outbox's health, a history row), instead of an aware UTC datetime printed as it is.
- **The AS400's clock said as the simulator's when it is** (:func:`as400_time`): with
  ``AS400_EXCHANGE_BACKEND=simulator`` (bin/run's), the AS400's times (CTCDAT/CTCTIM, ORDSTS...)
  are the simulator's clock, which runs faster than ours; they read « 10:02 (horloge du
  simulateur) » so that no one takes them for the time things happened here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext


def euros(amount: Decimal | int | float | str | None) -> str:
    """``amount`` as euros with two decimals in the active language (empty for None)."""
    if amount is None or amount == "":
        return ""
    number = formats.number_format(Decimal(str(amount)), 2, use_l10n=True, force_grouping=True)
    # Translators: an amount in euros; {amount} is already written with its decimals.
    return gettext("€{amount}").format(amount=number)


def paris(moment: datetime | None, *, seconds: bool = False) -> str:
    """``moment`` in Paris time (``TIME_ZONE``) in the admin's one format; "" for None."""
    if moment is None:
        return ""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    text = formats.date_format(local, "DATETIME_FORMAT")
    return f"{text}:{local:%S}" if seconds else text


def simulator_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """A moment of the AS400 simulator's clock, marked as such: « 07/12/2026 10:02 (horloge du simulateur) »."""
    if moment is None:
        return ""
    return gettext("{moment} (simulator clock)").format(moment=paris(moment, seconds=seconds))


def as400_time(moment: datetime | None) -> str:
    """A moment of the AS400's clock: the simulator's, and said so, when the exchange is the simulator's."""
    if str(getattr(settings, "AS400_EXCHANGE_BACKEND", "local")).startswith("simulator"):  # -sftp, -ftp...
        return simulator_time(moment)
    return paris(moment)
