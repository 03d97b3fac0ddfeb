"""What the simulator raises.

:class:`SimulatorError` is the base of every refusal an operator or a test can cause (an unknown
order, a bad fault value...). The SQL read API raises :class:`AS400SQLError` subclasses that carry
the DB2 for i message identifiers a live reader of the real AS400 would see.
"""

from __future__ import annotations

from django.utils.translation import gettext


class SimulatorError(Exception):
    """A request the simulator refuses; the message says why, for an operator to read.

    ``str(error)`` is English, as the simulator's command line and log say it. A refusal the admin's
    simulator page shows is raised as its marked English text with named ``params`` (``{name!r}``):
    :meth:`translated` says it in the active language, from the catalogue.
    """

    def __init__(self, message: str, **params: object) -> None:
        self.template, self.params = message, params
        super().__init__(message.format(**params) if params else message)

    def translated(self) -> str:
        """The refusal in the active language (as it is when the catalogue has no French for it)."""
        text = gettext(self.template)
        return text.format(**self.params) if self.params else text


class NotSeededError(SimulatorError):
    """The simulator has no catalogue yet: run ``as400_simulator seed`` first."""


class OrderNotFoundError(SimulatorError):
    """No web order (or no such line) is known to the simulated AS400."""


class NothingToDoError(SimulatorError):
    """The requested event cannot happen: nothing is left to pick, ship, cancel or return."""


class AS400SQLError(SimulatorError):
    """A failed SQL read, as DB2 for i reports it: ``code`` is the message id (``SQL0913``)."""

    code = "SQL0000"
    sqlstate = "HY000"

    def __init__(self, message: str, *, table: str = "") -> None:
        self.table = table
        super().__init__(f"{self.code} {message}")


class ObjectInUseError(AS400SQLError):
    """SQL0913: the file is locked (nightly batch window, or a job holding it); the read timed out."""

    code = "SQL0913"
    sqlstate = "57033"


class AS400UnavailableError(AS400SQLError):
    """The AS400 does not answer at all (the ``down`` fault): a communication failure."""

    code = "SQL30081"
    sqlstate = "08001"


class ObjectNotFoundError(AS400SQLError):
    """SQL0204: the statement names a table that the library ERPLIB does not have."""

    code = "SQL0204"
    sqlstate = "42704"


class NotAuthorizedError(AS400SQLError):
    """SQL0551: the reader may only SELECT; anything else is refused."""

    code = "SQL0551"
    sqlstate = "42501"


class QueryTimeoutError(AS400SQLError):
    """SQL0666: the query ran longer than its time limit and was ended."""

    code = "SQL0666"
    sqlstate = "57005"


class SQLSyntaxError(AS400SQLError):
    """SQL0104: the statement cannot be read."""

    code = "SQL0104"
    sqlstate = "42601"
