"""What a check is: a small unit with a stable code, a default severity, the files it needs, and
one method that finds its discrepancies for a night.

A check reads; it never writes. It answers :class:`Finding` values, each naming its subject (stable
from one night to the next: the run keys a discrepancy on ``code:subject``), both values, what is
at stake (units, euros) and, where staff can act, a suggestion in words they understand. Its texts
are written in English and marked (``gettext``), their French in reconciliation's catalogue: a run
writes them in the language active then (French, the default, for the nightly task). The run
(``reconciliation.services``) turns findings into discrepancies, counts them and alerts.

A check takes the extracts' times (:class:`Night`) and the orders in flight into account, so that
timing alone never raises a discrepancy: what changed here after an extract was taken is not
compared with that extract.

A new check (the Shopify connector's, say) is a new unit registered with :func:`check_register`:
the run, the models and the admin do not change. A check that compares with another system than
the AS400's files says when it cannot run (:meth:`Check.unavailable`, or :class:`CheckUnavailable`
raised from :meth:`Check.find` when that system does not answer): it is then skipped with the
reason, and the run's other checks go on. What its "accept" does is its own
(:meth:`Check.accept_apply`). Checks of one run share what they read through ``Night.cache``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from integration.models import FileRun

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


@dataclass(frozen=True)
class Night:
    """The night a run compares: the full extracts it found for it, and the moment of the run."""

    night: date
    now: datetime
    files: dict[str, FileRun] = field(default_factory=dict)  # ITMMST, STKBAL, WEBORD → its applied full
    #: What the run's checks read once and share (e.g. the Shopify snapshot), by name.
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def taken_at(self, file: str) -> datetime:
        run = self.files[file]
        assert run.taken_at is not None  # a full extract without a date is refused by the sync
        return run.taken_at


@dataclass(frozen=True)
class Finding:
    """One discrepancy as a check sees it tonight."""

    subject: str
    ours: str = ""
    theirs: str = ""
    difference: Decimal | int | None = None
    units: int = 0
    amount: Decimal = Decimal(0)
    suggestion: str = ""
    order_id: int | None = None
    product_id: int | None = None
    location_id: int | None = None
    category_id: int | None = None
    file: str = ""  # the extract the AS400's value comes from (ITMMST, STKBAL, WEBORD)


class CheckUnavailable(Exception):
    """The system a check compares with could not be read tonight (the message says why)."""


class Check:
    """A check: subclass it, set the class attributes, write :meth:`find`, register it."""

    code: ClassVar[str]
    title: ClassVar[StrOrPromise]  # translatable (gettext_lazy), for staff
    severity: ClassVar[str]  # Discrepancy.Severity's value
    needs: ClassVar[tuple[str, ...]] = ()  # the night's full extracts it compares with
    #: What "accept the AS400's value" does for this kind ("" when there is nothing to accept).
    accept: ClassVar[StrOrPromise] = ""  # translatable too

    def find(self, night: Night) -> Iterable[Finding]:
        raise NotImplementedError

    def missing(self, night: Night) -> list[str]:
        return [f for f in self.needs if f not in night.files]

    def unavailable(self, night: Night) -> str:
        """Why this check cannot run tonight besides missing files (translatable: gettext; "" when it can)."""
        return ""

    def accept_apply(self, discrepancy: Any, *, user: object | None, now: datetime) -> str | None:
        """Do what "accept" means for this kind and say what was done (translatable); ``None``: the
        kind has no accept of its own (:mod:`reconciliation.resolution` knows the AS400's)."""
        return None


CHECKS: dict[str, Check] = {}


def check_register(check: Check) -> Check:
    """Register ``check`` under its code (registering the same code again replaces it)."""
    CHECKS[check.code] = check
    return check


def check_of(code: str) -> Check | None:
    return CHECKS.get(code)
