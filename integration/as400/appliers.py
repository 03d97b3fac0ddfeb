"""What an AS400 export means to the domain: the appliers, registered by the apps that own them.

The sync (``integration.as400.sync``) reads, checks and decodes a pair; what its records *do* is the
domain's business. Each domain app registers, at start-up (its ``AppConfig.ready``), the applier of
each file it owns, as the outbox's sent hooks are registered:

- ``inventory``: ITMMST (the item master) and STKBAL (stock), ``inventory.as400_exports``;
- ``orders``: ORDACK, ORDSTS and STRRTN, ``orders.as400_exports``; and what an applied STKBAL
  settles of the orders' in-flight units (an *after* hook of STKBAL);
- ``reconciliation``: WEBORD (the AS400's picture of the web orders), and what a full STKBAL
  replaces of our projection (a *before* hook keeps it, to measure the day's drift).

So ``integration`` imports no domain app. An applier runs inside the sync's transaction, with the
pair's decoded columns and the moment the sync took the pair (``now``), and returns an
:class:`ApplyResult`; a before hook runs in the same transaction just before the applier, an after
hook once the applier is done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from integration.as400.exchange.base import VerifiedPair

#: Called with the number of records done so far (a progress bar's ``update``).
Progress = Callable[[int], None]
QUALITY_SAMPLE = 20  # examples kept per finding, so that a report stays readable

#: The order in which the sync takes the files: items before their stock, acks before stock, so
#: that an extract settles the lines acknowledged before it was taken, and the AS400's order events
#: (ORDSTS) before the stores' (STRRTN), which act on what ORDSTS reported ready.
#: WEBORD comes last: the night's picture of the orders, read once the day's events are in.
FILE_ORDER = ("ITMMST", "ORDACK", "ORDSTS", "STRRTN", "STKBAL", "WEBORD")


@dataclass
class ApplyResult:
    """What an applier did (``counts``) and what looked wrong in the data (``quality``)."""

    counts: dict[str, int] = field(default_factory=dict)
    quality: dict[str, dict[str, Any]] = field(default_factory=dict)

    def finding(self, name: str, examples: Sequence[object], total: int | None = None) -> None:
        if examples or total:
            self.quality[name] = {"count": total if total is not None else len(examples),
                                  "examples": [str(e) for e in list(examples)[:QUALITY_SAMPLE]]}  # fmt: skip


#: Applies a verified pair's decoded columns, at ``now`` (the moment the sync took the pair).
Applier = Callable[["VerifiedPair", dict[str, list[Any]], Progress | None, datetime], ApplyResult]
#: Runs after a file's applier, in its transaction, and may add to its result.
AfterHook = Callable[["VerifiedPair", ApplyResult, datetime], None]
#: Runs before a file's applier, in its transaction (it sees the database as the file found it).
BeforeHook = Callable[["VerifiedPair", datetime], None]

#: file name → its applier, in :data:`FILE_ORDER` (the sync walks this dict).
APPLIERS: dict[str, Applier] = {}
AFTER_HOOKS: dict[str, list[AfterHook]] = {}
BEFORE_HOOKS: dict[str, list[BeforeHook]] = {}


def applier_register(file: str, applier: Applier) -> None:
    """The applier of ``file`` (one per file; registering again replaces it)."""
    if file not in FILE_ORDER:
        raise ValueError(f"{file} is not an export the sync takes (known: {', '.join(FILE_ORDER)})")
    APPLIERS[file] = applier
    ordered = {f: APPLIERS[f] for f in FILE_ORDER if f in APPLIERS}
    APPLIERS.clear()
    APPLIERS.update(ordered)


def after_hook_register(file: str, hook: AfterHook) -> None:
    """Run ``hook`` after ``file``'s applier, in its transaction (once per hook)."""
    hooks = AFTER_HOOKS.setdefault(file, [])
    if hook not in hooks:
        hooks.append(hook)


def before_hook_register(file: str, hook: BeforeHook) -> None:
    """Run ``hook`` before ``file``'s applier, in its transaction (once per hook)."""
    hooks = BEFORE_HOOKS.setdefault(file, [])
    if hook not in hooks:
        hooks.append(hook)


def apply(pair: VerifiedPair, columns: dict[str, list[Any]], progress: Progress | None, now: datetime) -> ApplyResult:
    """Apply ``pair``: its file's before hooks, its applier, then its after hooks."""
    for before in BEFORE_HOOKS.get(pair.name.file, []):
        before(pair, now)
    result = APPLIERS[pair.name.file](pair, columns, progress, now)
    for hook in AFTER_HOOKS.get(pair.name.file, []):
        hook(pair, result, now)
    return result
