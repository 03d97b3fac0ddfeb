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


class WebOrderPicture(models.Model):
    """One record of the last full WEBORD applied (``seq``)."""

    seq = models.PositiveIntegerField(help_text="The WEBORD pair it came in (its sequence)")
    order_number = models.CharField(max_length=20, unique=True, help_text="The web order number")
    as400_order_number = models.CharField(max_length=10, blank=True, help_text="The AS400's order number")
    status = models.CharField(
        max_length=1, help_text="O open, E shipped, A cancelled, S closed (shipped and cancelled)"
    )
    line_count = models.PositiveIntegerField(help_text="Its lines")
    ordered = models.IntegerField(help_text="Units ordered, less those cancelled")
    shipped = models.IntegerField(help_text="Units shipped")
    total = models.DecimalField(max_digits=13, decimal_places=2, help_text="Amount due incl. VAT")
    ordered_on = models.DateField(null=True, blank=True, help_text="Day ordered")

    class Meta:
        verbose_name = "commande vue par l'AS400"
        verbose_name_plural = "commandes vues par l'AS400"

    def __str__(self) -> str:
        return f"{self.order_number} ({self.status})"


class StockPicture(models.Model):
    """One stock pair at the last full STKBAL (``seq``): ours just before it, and its own."""

    # Written in bulk (1.55 million rows a night), like the stock levels: no database constraints.
    seq = models.PositiveIntegerField(help_text="The full STKBAL pair it came with (its sequence)")
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    projected_on_hand = models.IntegerField(default=0, help_text="Ours just before the full extract")
    projected_promised = models.IntegerField(default=0)
    on_hand = models.IntegerField(default=0, help_text="On hand in the full extract")
    promised = models.IntegerField(default=0, help_text="Promised in the full extract")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "location"], name="stock_picture_pair")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.projected_on_hand} -> {self.on_hand}"


class Run(models.Model):
    """One comparison of a night's full extracts with our database."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "En cours"
        DONE = "done", "Terminé"
        INCOMPLETE = "incomplete", "Incomplet (fichiers manquants)"
        FAILED = "failed", "Échec"

    night = models.DateField(db_index=True, help_text="The Paris date of the nightly extracts compared")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    dry_run = models.BooleanField(default=False)
    trigger = models.CharField(max_length=20, help_text="files, schedule or command")
    started_by = models.CharField(max_length=150, blank=True)
    files = models.JSONField(
        default=list, blank=True, help_text="The full extracts compared: file, sequence, extract time"
    )
    skipped_checks = models.JSONField(default=list, blank=True, help_text="Checks not run, and why")
    counts = models.JSONField(
        default=dict, blank=True, help_text="Per kind: findings per severity, pilot apart from live"
    )
    drift = models.JSONField(
        default=dict, blank=True,
        help_text="Units the site showed that the full STKBAL did not hold, per category (pilot apart)",
    )  # fmt: skip
    found = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0, help_text="Discrepancies seen for the first time")
    closed = models.PositiveIntegerField(default=0, help_text="Open discrepancies this run no longer found")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "rapprochement"
        verbose_name_plural = "rapprochements"
        permissions = [("run_reconciliation", "Peut lancer un rapprochement")]

    def __str__(self) -> str:
        return f"rapprochement de la nuit du {self.night:%d/%m/%Y}"


class Discrepancy(models.Model):
    """One difference between the AS400 and us, per subject and kind, kept across nights."""

    class Severity(models.TextChoices):
        HIGH = "high", "Haute"
        MEDIUM = "medium", "Moyenne"
        LOW = "low", "Basse"

    class State(models.TextChoices):
        OPEN = "open", "Ouverte"
        RESOLVED = "resolved", "Résolue"
        IGNORED = "ignored", "Ignorée"
        CLOSED = "closed", "Disparue d'elle-même"

    key = models.CharField(max_length=200, unique=True, help_text="kind:subject, stable across nights")
    kind = models.CharField(max_length=40, db_index=True)
    severity = models.CharField(max_length=6, choices=Severity.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN, db_index=True)
    subject = models.CharField(max_length=120, help_text="What it is about: an order, a pair, an item...")
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="discrepancies"
    )
    product = models.ForeignKey(
        "inventory.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="discrepancies"
    )
    location = models.ForeignKey("inventory.Location", null=True, blank=True, on_delete=models.SET_NULL)
    category = models.ForeignKey("inventory.Category", null=True, blank=True, on_delete=models.SET_NULL)
    file_run = models.ForeignKey(
        "integration.FileRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The AS400 file the AS400's value comes from",
    )  # fmt: skip
    pilot = models.BooleanField(default=False, help_text="In a pilot category")
    ours = models.CharField(max_length=200, blank=True, help_text="Our value")
    theirs = models.CharField(max_length=200, blank=True, help_text="The AS400's value")
    difference = models.DecimalField(max_digits=13, decimal_places=2, null=True, blank=True)
    units = models.IntegerField(default=0, help_text="Units at stake (for thresholds)")
    amount = models.DecimalField(max_digits=13, decimal_places=2, default=0, help_text="Euros at stake")
    suggestion = models.CharField(max_length=300, blank=True)
    first_run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="+")
    last_run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="+")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    nights_open = models.PositiveIntegerField(default=1, help_text="Nights on which a run found it")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["state", "-last_seen_at", "id"]
        indexes = [models.Index(fields=["state", "kind"], name="discrepancy_state_kind")]
        verbose_name = "écart"
        verbose_name_plural = "écarts"
        permissions = [("resolve_discrepancy", "Peut résoudre les écarts")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"


class Action(models.Model):
    """What was done to a discrepancy, by whom, when (staff's actions and the runs' own)."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", "Valeur de l'AS400 acceptée"
        RESEND = "resend", "Commande renvoyée à l'AS400"
        CANCEL = "cancel", "Commande annulée"
        IGNORE = "ignore", "Ignorée"
        REOPEN = "reopen", "Rouverte"
        CLOSED = "closed", "Disparue d'elle-même"

    discrepancy = models.ForeignKey(Discrepancy, on_delete=models.CASCADE, related_name="actions")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    by = models.CharField(max_length=150)
    at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=300, blank=True, help_text="What the action did")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "action sur un écart"
        verbose_name_plural = "actions sur les écarts"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} par {self.by}"


class Threshold(models.Model):
    """Past these, a run raises an alert and e-mails operations (a blank limit is no limit)."""

    kind = models.CharField(max_length=40, unique=True)
    max_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="Open discrepancies of this kind"
    )
    max_units = models.PositiveIntegerField(null=True, blank=True, help_text="Units at stake")
    max_amount = models.DecimalField(max_digits=13, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["kind"]
        verbose_name = "seuil d'alerte"
        verbose_name_plural = "seuils d'alerte"

    def __str__(self) -> str:
        return self.kind
