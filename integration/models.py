"""What the platform records of its exchange with the AS400: file runs and alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integration.core.identifiers import storefront_client_name_validate


class FileRun(models.Model):
    """One exchange file read from OUT/ (or written to IN/), and what became of it.

    A pair is applied at most once: one ``applied`` (or ``ignored``) run per file name, sequence
    and direction, enforced by the database, with the checksum kept to tell a re-delivery of the
    same content from a different file under a reused name.
    """

    class Direction(models.TextChoices):
        OUT = "OUT", _("From the AS400 (OUT/)")
        IN = "IN", _("To the AS400 (IN/)")

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Ignored")
        QUARANTINED = "quarantined", _("Quarantined")
        FAILED = "failed", _("Failed (will be retried)")

    file = models.CharField(_("file"), max_length=10, help_text=_("ITMMST, STKBAL, ORDACK..."))
    seq = models.PositiveIntegerField(_("seq"))
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, default=Direction.OUT)
    kind = models.CharField(_("kind"), max_length=1, blank=True, help_text=_("F full, D delta"))
    checksum = models.CharField(_("checksum"), max_length=64, blank=True, help_text=_("SHA-256 of the .DAT"))
    size_bytes = models.BigIntegerField(_("size bytes"), default=0)
    record_count = models.PositiveIntegerField(_("record count"), default=0)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True, help_text=_("CTCDAT/CTCTIM of the control record"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.RUNNING, db_index=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True, help_text=_("What the run did: created, updated..."))
    quality = models.JSONField(_("quality"), default=dict, blank=True, help_text=_("Data quality findings"))
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("file run")
        verbose_name_plural = _("file runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "file", "seq"],
                condition=Q(outcome__in=["applied", "ignored"]),
                name="filerun_applied_once",
            )
        ]
        indexes = [models.Index(fields=["direction", "file", "seq"], name="filerun_name")]
        # The AS400 simulator's admin page (integration.as400.simulator.admin) writes exchange files, as
        # the AS400 would: only for those given this, and only where AS400_SIMULATOR_ADMIN is on.
        permissions = [("use_as400_simulator", _("Can use the AS400 simulator's admin page"))]

    def __str__(self) -> str:
        return f"{self.file}_{self.seq:06d} ({self.outcome})"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def file_runs_quiet() -> Q:
    """The runs that changed nothing: a STKBAL delta applied with no figure created, updated or
    settled and nothing wrong in its data (the AS400 sends one every few minutes, most of them
    empty). Kept like every run, but folded away in the admin's list by default."""
    unchanged = Q()
    for key in ("created", "updated", "in_flight_settled"):
        unchanged &= Q(**{f"counts__{key}": 0}) | ~Q(counts__has_key=key)
    return Q(file="STKBAL", kind="D", outcome=FileRun.Outcome.APPLIED, quality={}) & (Q(record_count=0) | unchanged)


class Alert(models.Model):
    """Something staff must see: a quarantined file, a sequence gap, a dead message...

    The same alert raised again (same ``kind`` and ``subject``, still open) is counted on the open
    one instead of piling up.
    """

    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    subject = models.CharField(_("subject"), max_length=120, blank=True, help_text=_("What it is about: a file, an order..."))
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.WARNING)
    message = models.TextField(_("message"))
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("resolved by"))

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["resolved_at", "-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=Q(resolved_at__isnull=True),
                name="alert_one_open_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.kind} {self.subject}".strip()


class StorefrontClient(models.Model):
    """A storefront (or script) allowed to call the REST API, with its scopes and rate limit.

    Its bearer token is shown once, when created or rotated, and only its SHA-256 is stored, with
    the first characters (``token_prefix``) so that staff can tell which token a client holds.
    Services: :mod:`integration.storefront.clients`.
    """

    class Scope(models.TextChoices):
        CATALOG_READ = "catalog:read", _("Read the catalogue")
        CATALOG_WRITE = "catalog:write", _("Write storefront content")
        AVAILABILITY_READ = "availability:read", _("Read availability")
        RESERVATIONS_WRITE = "reservations:write", _("Hold and release stock")
        ORDERS_WRITE = "orders:write", _("Place and cancel orders")

    name = models.CharField(_("name"),
        max_length=64, unique=True, validators=[storefront_client_name_validate],
        help_text=_("Also the holder of its reservations; ASCII letters, digits, '.', '_', '-' (no blank)"),
    )  # fmt: skip
    token_prefix = models.CharField(_("token prefix"), max_length=8, db_index=True, editable=False)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False, help_text=_("SHA-256, hex"))
    scopes = models.JSONField(_("scopes"), default=list, blank=True, help_text=_("What the client may do"))
    can_see_pilot = models.BooleanField(_("can see pilot"), default=False, help_text=_("Sees and sells pilot categories"))
    rate_limit = models.PositiveIntegerField(_("rate limit"), default=600, help_text=_("Requests per minute"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    token_rotated_at = models.DateTimeField(_("token rotated at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    # Webhooks: where the client wants to be told of its orders, and with what it checks our signature.
    webhook_url = models.URLField(_("webhook url"),
        blank=True, help_text=_("HTTPS endpoint that receives the events; empty: none")
    )
    webhook_secret = models.CharField(_("webhook secret"),
        max_length=64, blank=True, help_text=_("HMAC-SHA256 key of the signature (shown to the client once)")
    )
    webhook_events = models.JSONField(_("webhook events"),
        default=list, blank=True, help_text=_("Event types it subscribed to; empty: all of them")
    )

    class Meta:
        verbose_name = _("storefront client")
        verbose_name_plural = _("storefront clients")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(rate_limit__gte=1), name="storefront_client_rate_positive")
        ]

    def __str__(self) -> str:
        return self.name

    # What DRF's permission classes ask of ``request.user``.
    is_authenticated = True
    is_anonymous = False

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class OutboundFile(models.Model):
    """A pair we write to IN/, recorded before it is written so that a crash never loses or repeats it.

    ``writing``: recorded with its messages, the pair may or may not be on disk yet (the next run
    writes it, or finds it there); ``written``: on disk, its messages sent; ``abandoned``: it could
    not be written, its messages went back to the queue. Sequence numbers are per file name, unique
    among the files that are not abandoned (a constraint); an abandoned file's number is given
    again to the next file when nothing of it lies in ``IN/``, ``DONE/`` or ``ERR/`` (the AS400 never
    saw it), and skipped otherwise (a lone ``.DAT`` holds it).
    """

    class State(models.TextChoices):
        WRITING = "writing", _("Being written")
        WRITTEN = "written", _("Written")
        ABANDONED = "abandoned", _("Could not be written (its messages were sent again later)")

    file = models.CharField(_("file"), max_length=6, help_text=_("ORDIMP, ORDANN or RTNIMP"))
    seq = models.PositiveIntegerField(_("seq"))
    state = models.CharField(_("state"), max_length=9, choices=State.choices, default=State.WRITING)
    records = models.PositiveIntegerField(_("records"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    probe = models.BooleanField(_("probe"),
        default=False, help_text=_("Sent while the circuit breaker was open, to test the AS400")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    written_at = models.DateTimeField(_("written at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound file")
        verbose_name_plural = _("outbound files")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["file", "seq"], condition=~Q(state="abandoned"), name="outbound_file_unique_seq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.file}_{self.seq:06d}"


class OutboxMessage(models.Model):
    """Something to tell the AS400 (an order, a cancellation, a return), written in the same
    transaction as the change it announces, and delivered by the dispatcher at most once per file.

    ``state`` moves pending → sent → acked, or to dead after its attempts run out (visible and
    retryable in the admin), or to cancelled when there is nothing left to send.

    ``subject`` names what it is about without a relation: the outbox knows no order (``orders``
    writes an order's id there and queries its messages by it), so that ``integration`` depends
    on no domain app, in its imports or in its schema.
    """

    class Kind(models.TextChoices):
        ORDIMP = "ORDIMP", _("Order")
        ORDANN = "ORDANN", _("Cancellation")
        RTNIMP = "RTNIMP", _("Return")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        ACKED = "acked", _("Acknowledged")
        DEAD = "dead", _("Dead (attempts exhausted)")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices)
    subject = models.PositiveBigIntegerField(_("subject"),
        db_index=True,
        help_text=_("What the message is about, as the app that wrote it numbers it (an order's id): the outbox "
        "only compares it, to send a message after its subject's acknowledged ORDIMP"),
    )
    payload = models.JSONField(_("payload"), default=dict, blank=True, help_text=_("What to send beyond the order itself"))
    state = models.CharField(_("state"), max_length=9, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    outbound_file = models.ForeignKey(
        OutboundFile,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        help_text=_("The pair it went in last"), verbose_name=_("outbound file"),)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    acked_at = models.DateTimeField(_("acked at"), null=True, blank=True)
    left_in_failed_write = models.BooleanField(_("left in failed write"),
        default=False,
        help_text=_("A write of its file failed, yet its .OK lay where the AS400 reads (or that could not be "
        "checked): the AS400 may have it"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["kind", "next_attempt_at", "id"],
                condition=Q(state="pending"),
                name="outbox_claimable",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"


class StorefrontEvent(models.Model):
    """Something that happened to a storefront's order or return, told by webhook and by polling.

    Written in the same transaction as the change it tells (``integration.storefront.events.event_emit``).
    ``id`` orders events (the polling cursor); ``event_id`` is what a receiver dedupes on.
    """

    class Type(models.TextChoices):
        ORDER_ACCEPTED = "order.accepted", _("Order accepted by the AS400")
        ORDER_REFUSED = "order.refused", _("Order refused by the AS400")
        ORDER_PICKED = "order.picked", _("Order being picked")
        ORDER_SHIPPED = "order.shipped", _("Order shipped (with tracking)")
        ORDER_READY_IN_STORE = "order.ready_in_store", _("Order ready in store")
        ORDER_CANCELLED = "order.cancelled", _("Order (or lines) cancelled")
        ORDER_RETURNED = "order.returned", _("Order (or lines) returned")
        RETURN_RECEIVED = "return.received", _("Return received")

    event_id = models.UUIDField(_("event id"), unique=True, editable=False)
    type = models.CharField(_("type"), max_length=32, choices=Type.choices)
    client = models.CharField(_("client"),
        max_length=64, db_index=True, help_text=_("Storefront client the order belongs to")
    )
    order_number = models.CharField(_("order number"), max_length=20)
    rma = models.CharField(_("RMA"), max_length=12, blank=True)
    payload = models.JSONField(_("payload"), default=dict, help_text=_("The event's data, as sent"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("storefront event")
        verbose_name_plural = _("storefront events")
        ordering = ["id"]
        indexes = [models.Index(fields=["order_number", "id"], name="storefront_event_order")]

    def __str__(self) -> str:
        return f"{self.type} {self.order_number} ({self.event_id})"


class WebhookDelivery(models.Model):
    """One event to one client's endpoint: retried with backoff until it is taken, or dead.

    ``pending`` → ``delivered``, or ``dead`` after its attempts ran out or a 4xx other than 408/429
    (the receiver refuses it: sending it again would change nothing). Staff can replay any
    delivery from the admin: it goes back to pending, its attempts kept.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Dead (given up)")

    event = models.ForeignKey(StorefrontEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event"))
    client = models.ForeignKey(StorefrontClient, on_delete=models.CASCADE, related_name="webhook_deliveries", verbose_name=_("client"))
    url = models.URLField(_("URL"), help_text=_("The endpoint at the time the event was emitted"))
    state = models.CharField(_("state"), max_length=9, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_status = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True, help_text=_("Last HTTP status"))
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], condition=Q(state="pending"), name="webhook_delivery_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.client} ({self.state})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery, kept for staff: when, what came back, how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration ms"), default=0)
    response_excerpt = models.CharField(_("response excerpt"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error[:40]}"
