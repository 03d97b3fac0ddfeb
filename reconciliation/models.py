"""What the nightly reconciliation keeps: the AS400's pictures, the runs, the discrepancies.

- :class:`WebOrderPicture`: the web orders as the AS400's last full WEBORD knew them (replaced
  whole by each WEBORD applied);
- :class:`StockPicture`: per stock pair, what our projection (the previous night plus the day's
  deltas) said just before the last full STKBAL, and what that full extract said;
- :class:`Run`: one comparison of a night, with the files it compared and its counts;
- :class:`Discrepancy`: one per subject and kind, kept across nights by its ``key``;
- :class:`Action`: what staff (or a run) did to a discrepancy;
- :class:`Threshold`: per kind, the count, units or amount past which a run alerts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WebOrderPicture(models.Model):
    """One record of the last full WEBORD applied (``seq``)."""

    seq = models.PositiveIntegerField(_("seq"), help_text=_("The WEBORD pair it came in (its sequence)"))
    order_number = models.CharField(_("order number"), max_length=20, unique=True, help_text=_("The web order number"))
    as400_order_number = models.CharField(_("AS400 order number"), max_length=10, blank=True, help_text=_("The AS400's order number"))
    status = models.CharField(_("status"),
        max_length=1, help_text=_("O open, E shipped, A cancelled, S closed (shipped and cancelled)")
    )
    line_count = models.PositiveIntegerField(_("line count"), help_text=_("Its lines"))
    ordered = models.IntegerField(_("ordered"), help_text=_("Units ordered, less those cancelled"))
    shipped = models.IntegerField(_("shipped"), help_text=_("Units shipped"))
    total = models.DecimalField(_("total"), max_digits=13, decimal_places=2, help_text=_("Amount due incl. VAT"))
    ordered_on = models.DateField(_("ordered on"), null=True, blank=True, help_text=_("Day ordered"))

    class Meta:
        verbose_name = _("order as seen by the AS400")
        verbose_name_plural = _("orders as seen by the AS400")

    def __str__(self) -> str:
        return f"{self.order_number} ({self.status})"


class StockPicture(models.Model):
    """One stock pair at the last full STKBAL (``seq``): ours just before it, and its own.

    A pair that held nothing on either side (0 on hand, 0 promised, ours and the extract's) is not
    kept: a pair missing from the picture is read as zeros (``reconciliation.as400_exports``).
    """

    # Written in bulk (1.55 million rows a night), like the stock levels: no database constraints.
    seq = models.PositiveIntegerField(_("seq"), help_text=_("The full STKBAL pair it came with (its sequence)"))
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False, verbose_name=_("product"),)
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False, verbose_name=_("location"),)
    projected_on_hand = models.IntegerField(_("projected on hand"), default=0, help_text=_("Ours just before the full extract"))
    projected_promised = models.IntegerField(_("projected promised"), default=0)
    on_hand = models.IntegerField(_("on hand"), default=0, help_text=_("On hand in the full extract"))
    promised = models.IntegerField(_("promised"), default=0, help_text=_("Promised in the full extract"))

    class Meta:
        verbose_name = _("stock picture")
        verbose_name_plural = _("stock pictures")
        constraints = [models.UniqueConstraint(fields=["product", "location"], name="stock_picture_pair")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.projected_on_hand} -> {self.on_hand}"


class Run(models.Model):
    """One comparison of a night's full extracts with our database."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")
        INCOMPLETE = "incomplete", _("Incomplete (files missing)")
        FAILED = "failed", _("Failed")

    night = models.DateField(_("night"), db_index=True, help_text=_("The Paris date of the nightly extracts compared"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration seconds"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    dry_run = models.BooleanField(_("dry run"), default=False)
    trigger = models.CharField(_("trigger"), max_length=20, help_text=_("files, schedule or command"))
    started_by = models.CharField(_("started by"), max_length=150, blank=True)
    files = models.JSONField(_("files"),
        default=list, blank=True, help_text=_("The full extracts compared: file, sequence, extract time")
    )
    skipped_checks = models.JSONField(_("skipped checks"), default=list, blank=True, help_text=_("Checks not run, and why"))
    counts = models.JSONField(_("counts"),
        default=dict, blank=True, help_text=_("Per kind: findings per severity, pilot apart from live")
    )
    drift = models.JSONField(_("drift"),
        default=dict, blank=True,
        help_text=_("Units the site showed that the full STKBAL did not hold, per category (pilot apart)"),
    )  # fmt: skip
    found = models.PositiveIntegerField(_("found"), default=0)
    opened = models.PositiveIntegerField(_("opened"), default=0, help_text=_("Discrepancies seen for the first time"))
    closed = models.PositiveIntegerField(_("closed"), default=0, help_text=_("Open discrepancies this run no longer found"))
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        permissions = [("run_reconciliation", _("Can run a reconciliation"))]

    def __str__(self) -> str:
        return f"rapprochement de la nuit du {self.night:%d/%m/%Y}"


class Discrepancy(models.Model):
    """One difference between the AS400 and us, per subject and kind, kept across nights."""

    class Severity(models.TextChoices):
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        IGNORED = "ignored", _("Ignored")
        CLOSED = "closed", _("Gone by itself")

    key = models.CharField(_("key"), max_length=200, unique=True, help_text=_("kind:subject, stable across nights"))
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN, db_index=True)
    subject = models.CharField(_("subject"), max_length=120, help_text=_("What it is about: an order, a pair, an item..."))
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="discrepancies", verbose_name=_("order"))
    product = models.ForeignKey(
        "inventory.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="discrepancies", verbose_name=_("product"))
    location = models.ForeignKey("inventory.Location", null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("location"))
    category = models.ForeignKey("inventory.Category", null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("category"))
    file_run = models.ForeignKey(
        "integration.FileRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The AS400 file the AS400's value comes from"), verbose_name=_("file run"),)  # fmt: skip
    pilot = models.BooleanField(_("pilot"), default=False, help_text=_("In a pilot category"))
    ours = models.CharField(_("ours"), max_length=200, blank=True, help_text=_("Our value"))
    theirs = models.CharField(_("theirs"), max_length=200, blank=True, help_text=_("The AS400's value"))
    difference = models.DecimalField(_("difference"), max_digits=13, decimal_places=2, null=True, blank=True)
    units = models.IntegerField(_("units"), default=0, help_text=_("Units at stake (for thresholds)"))
    amount = models.DecimalField(_("amount"), max_digits=13, decimal_places=2, default=0, help_text=_("Euros at stake"))
    suggestion = models.CharField(_("suggestion"), max_length=300, blank=True)
    first_run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="+", verbose_name=_("first run"))
    last_run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="+", verbose_name=_("last run"))
    first_seen_at = models.DateTimeField(_("first seen at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    nights_open = models.PositiveIntegerField(_("nights open"), default=1, help_text=_("Nights on which a run found it"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.CharField(_("closed by"), max_length=150, blank=True)

    class Meta:
        ordering = ["state", "-last_seen_at", "id"]
        indexes = [models.Index(fields=["state", "kind"], name="discrepancy_state_kind")]
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")
        permissions = [("resolve_discrepancy", _("Can resolve discrepancies"))]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"


class Action(models.Model):
    """What was done to a discrepancy, by whom, when (staff's actions and the runs' own)."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", _("AS400 value accepted")
        RESEND = "resend", _("Order sent to the AS400 again")
        CANCEL = "cancel", _("Order cancelled")
        IGNORE = "ignore", _("Ignored")
        REOPEN = "reopen", _("Reopened")
        CLOSED = "closed", _("Gone by itself")

    discrepancy = models.ForeignKey(Discrepancy, on_delete=models.CASCADE, related_name="actions", verbose_name=_("discrepancy"))
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions", verbose_name=_("run"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    by = models.CharField(_("by"), max_length=150)
    at = models.DateTimeField(_("at"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True, help_text=_("What the action did"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("action on a discrepancy")
        verbose_name_plural = _("actions on discrepancies")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} par {self.by}"


class Threshold(models.Model):
    """Past these, a run raises an alert and e-mails operations (a blank limit is no limit)."""

    kind = models.CharField(_("kind"), max_length=40, unique=True)
    max_count = models.PositiveIntegerField(_("max count"),
        null=True, blank=True, help_text=_("Open discrepancies of this kind")
    )
    max_units = models.PositiveIntegerField(_("max units"), null=True, blank=True, help_text=_("Units at stake"))
    max_amount = models.DecimalField(_("max amount"), max_digits=13, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("updated by"))

    class Meta:
        ordering = ["kind"]
        verbose_name = _("alert threshold")
        verbose_name_plural = _("alert thresholds")

    def __str__(self) -> str:
        return self.kind
