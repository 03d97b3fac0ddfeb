"""What the platform records of its exchange with the AS400: file runs and alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from integration.core.identifiers import storefront_client_name_validate


class FileRun(models.Model):
    """One exchange file read from OUT/ (or written to IN/), and what became of it.

    A pair is applied at most once: one ``applied`` (or ``ignored``) run per file name, sequence
    and direction, enforced by the database, with the checksum kept to tell a re-delivery of the
    same content from a different file under a reused name.
    """

    class Direction(models.TextChoices):
        OUT = "OUT", "From the AS400 (OUT/)"
        IN = "IN", "To the AS400 (IN/)"

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        APPLIED = "applied", "Applied"
        IGNORED = "ignored", "Ignored"
        QUARANTINED = "quarantined", "Quarantined"
        FAILED = "failed", "Failed (will be retried)"

    file = models.CharField(max_length=10, help_text="ITMMST, STKBAL, ORDACK...")
    seq = models.PositiveIntegerField()
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.OUT)
    kind = models.CharField(max_length=1, blank=True, help_text="F full, D delta")
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the .DAT")
    size_bytes = models.BigIntegerField(default=0)
    record_count = models.PositiveIntegerField(default=0)
    taken_at = models.DateTimeField(null=True, blank=True, help_text="CTCDAT/CTCTIM of the control record")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.RUNNING, db_index=True)
    counts = models.JSONField(default=dict, blank=True, help_text="What the run did: created, updated...")
    quality = models.JSONField(default=dict, blank=True, help_text="Data quality findings")
    error = models.TextField(blank=True)

    class Meta:
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
        permissions = [("use_as400_simulator", "Can use the AS400 simulator's admin page")]

    def __str__(self) -> str:
        return f"{self.file}_{self.seq:06d} ({self.outcome})"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Alert(models.Model):
    """Something staff must see: a quarantined file, a sequence gap, a dead message...

    The same alert raised again (same ``kind`` and ``subject``, still open) is counted on the open
    one instead of piling up.
    """

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    kind = models.CharField(max_length=40, db_index=True)
    subject = models.CharField(max_length=120, blank=True, help_text="What it is about: a file, an order...")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.WARNING)
    message = models.TextField()
    occurrences = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
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
        CATALOG_READ = "catalog:read", "Read the catalogue"
        CATALOG_WRITE = "catalog:write", "Write storefront content"
        AVAILABILITY_READ = "availability:read", "Read availability"
        RESERVATIONS_WRITE = "reservations:write", "Hold and release stock"
        ORDERS_WRITE = "orders:write", "Place and cancel orders"

    name = models.CharField(
        max_length=64, unique=True, validators=[storefront_client_name_validate],
        help_text="Also the holder of its reservations; ASCII letters, digits, '.', '_', '-' (no blank)",
    )  # fmt: skip
    token_prefix = models.CharField(max_length=8, db_index=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256, hex")
    scopes = models.JSONField(default=list, blank=True, help_text="What the client may do")
    can_see_pilot = models.BooleanField(default=False, help_text="Sees and sells pilot categories")
    rate_limit = models.PositiveIntegerField(default=600, help_text="Requests per minute")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    token_rotated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Webhooks: where the client wants to be told of its orders, and with what it checks our signature.
    webhook_url = models.URLField(
        blank=True, help_text="HTTPS endpoint that receives the events; empty: none"
    )
    webhook_secret = models.CharField(
        max_length=64, blank=True, help_text="HMAC-SHA256 key of the signature (shown to the client once)"
    )
    webhook_events = models.JSONField(
        default=list, blank=True, help_text="Event types it subscribed to; empty: all of them"
    )

    class Meta:
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
        WRITING = "writing", "Being written"
        WRITTEN = "written", "Written"
        ABANDONED = "abandoned", "Could not be written (its messages were sent again later)"

    file = models.CharField(max_length=6, help_text="ORDIMP, ORDANN or RTNIMP")
    seq = models.PositiveIntegerField()
    state = models.CharField(max_length=9, choices=State.choices, default=State.WRITING)
    records = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    probe = models.BooleanField(
        default=False, help_text="Sent while the circuit breaker was open, to test the AS400"
    )
    created_at = models.DateTimeField(default=timezone.now)
    written_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        ORDIMP = "ORDIMP", "Order"
        ORDANN = "ORDANN", "Cancellation"
        RTNIMP = "RTNIMP", "Return"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        ACKED = "acked", "Acknowledged"
        DEAD = "dead", "Dead (attempts exhausted)"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=6, choices=Kind.choices)
    subject = models.PositiveBigIntegerField(
        db_index=True,
        help_text="What the message is about, as the app that wrote it numbers it (an order's id): the outbox "
        "only compares it, to send a message after its subject's acknowledged ORDIMP",
    )
    payload = models.JSONField(default=dict, blank=True, help_text="What to send beyond the order itself")
    state = models.CharField(max_length=9, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    outbound_file = models.ForeignKey(
        OutboundFile,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        help_text="The pair it went in last",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)
    left_in_failed_write = models.BooleanField(
        default=False,
        help_text="A write of its file failed, yet its .OK lay where the AS400 reads (or that could not be "
        "checked): the AS400 may have it",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
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
        ORDER_ACCEPTED = "order.accepted", "Order accepted by the AS400"
        ORDER_REFUSED = "order.refused", "Order refused by the AS400"
        ORDER_PICKED = "order.picked", "Order being picked"
        ORDER_SHIPPED = "order.shipped", "Order shipped (with tracking)"
        ORDER_READY_IN_STORE = "order.ready_in_store", "Order ready in store"
        ORDER_CANCELLED = "order.cancelled", "Order (or lines) cancelled"
        ORDER_RETURNED = "order.returned", "Order (or lines) returned"
        RETURN_RECEIVED = "return.received", "Return received"

    event_id = models.UUIDField(unique=True, editable=False)
    type = models.CharField(max_length=32, choices=Type.choices)
    client = models.CharField(
        max_length=64, db_index=True, help_text="Storefront client the order belongs to"
    )
    order_number = models.CharField(max_length=20)
    rma = models.CharField(max_length=12, blank=True)
    payload = models.JSONField(default=dict, help_text="The event's data, as sent")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
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
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead (given up)"

    event = models.ForeignKey(StorefrontEvent, on_delete=models.CASCADE, related_name="deliveries")
    client = models.ForeignKey(StorefrontClient, on_delete=models.CASCADE, related_name="webhook_deliveries")
    url = models.URLField(help_text="The endpoint at the time the event was emitted")
    state = models.CharField(max_length=9, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Last HTTP status")
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
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

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error[:40]}"
