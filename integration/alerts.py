"""Writes of the integration app that other parts share: alerts."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from integration.models import Alert

logger = logging.getLogger(__name__)


def alert_raise(
    *,
    kind: str,
    message: str,
    subject: str = "",
    severity: str = Alert.Severity.WARNING,
    now: datetime | None = None,
) -> Alert:
    """Open an alert, or count one more occurrence on the open alert of the same kind and subject."""
    now = now or timezone.now()
    log = logger.critical if severity == Alert.Severity.CRITICAL else logger.warning
    log("alert %s %s: %s", kind, subject, message)
    for _ in range(2):  # a concurrent raise may create the open alert between our look and our insert
        with transaction.atomic():
            updated = Alert.objects.filter(kind=kind, subject=subject, resolved_at__isnull=True).update(
                occurrences=F("occurrences") + 1,
                message=message,
                severity=severity,
                last_seen_at=now,
            )
            if updated:
                return Alert.objects.get(kind=kind, subject=subject, resolved_at__isnull=True)
            try:
                with transaction.atomic():
                    return Alert.objects.create(
                        kind=kind, subject=subject, message=message, severity=severity,
                        created_at=now, last_seen_at=now,
                    )  # fmt: skip
            except IntegrityError:
                continue
    return Alert.objects.get(kind=kind, subject=subject, resolved_at__isnull=True)


def alert_resolve(*, alert: Alert, user: object | None = None, now: datetime | None = None) -> Alert:
    alert.resolved_at = now or timezone.now()
    alert.resolved_by = user  # type: ignore[assignment]
    alert.save(update_fields=["resolved_at", "resolved_by"])
    return alert


def alert_once(
    *, kind: str, message: str, subject: str = "", severity: str = Alert.Severity.WARNING, now: datetime | None = None
) -> Alert:
    """Open an alert unless one of that kind and subject is open: for a state seen at every run
    (a lone file), which is news once, not at each run."""
    existing = Alert.objects.filter(kind=kind, subject=subject, resolved_at__isnull=True).first()
    if existing is not None:
        return existing
    return alert_raise(kind=kind, message=message, subject=subject, severity=severity, now=now)
