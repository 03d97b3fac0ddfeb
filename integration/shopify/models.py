"""The connector's own tables: the access token, the connection's state, the webhook inbox, the outgoing calls.

No model uses ``auto_now``: the services write every timestamp from the ``now`` they were given
(docs/CONVENTIONS.md); the defaults are for rows made elsewhere.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessToken(models.Model):
    """The Admin API's access token of a shop, got by the client credentials grant and shared by
    every process (it expires after a day: renewed before it does, and once on a 401)."""

    shop = models.CharField(_("shop"), max_length=255, unique=True)
    token = models.CharField(_("token"), max_length=255)
    scope = models.TextField(_("scopes"), blank=True)
    obtained_at = models.DateTimeField(_("obtained at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("Shopify access token")
        verbose_name_plural = _("Shopify access tokens")

    def __str__(self) -> str:  # never the token itself
        return f"{self.shop} (expire le {self.expires_at:%Y-%m-%d %H:%M})"


class ConnectionState(models.Model):
    """What staff see of the connection to a shop: the last call, the last error, the bucket."""

    shop = models.CharField(_("shop"), max_length=255, unique=True)
    api_version = models.CharField(_("API version"), max_length=20, blank=True)
    last_call_at = models.DateTimeField(_("last call at"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    bucket_available = models.FloatField(_("available points"), null=True, blank=True)
    bucket_maximum = models.FloatField(_("maximum points"), null=True, blank=True)
    restore_rate = models.FloatField(_("points restored per second"), null=True, blank=True)
    token_expires_at = models.DateTimeField(_("token expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Shopify connection state")
        verbose_name_plural = _("Shopify connection state")

    def __str__(self) -> str:
        return f"{self.shop} ({self.api_version})"


class WebhookEvent(models.Model):
    """One webhook event from Shopify, stored raw once per ``X-Shopify-Event-Id``, then applied.

    ``received`` → ``applied`` (its handler ran and committed with the state), ``ignored`` (no
    handler for its topic), or ``failed`` (the handler raised: nothing of it was kept; retried by
    the sweep while attempts are left, replayable by staff).
    """

    class State(models.TextChoices):
        RECEIVED = "received", _("Received (to apply)")
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Ignored (subject not handled)")
        FAILED = "failed", _("Failed")

    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    topic = models.CharField(_("subject"), max_length=100)
    webhook_id = models.CharField(_("webhook id"), max_length=100, blank=True)
    triggered_at = models.DateTimeField(_("triggered at"), null=True, blank=True)
    shop_domain = models.CharField(_("shop"), max_length=255, blank=True)
    api_version = models.CharField(_("API version"), max_length=20, blank=True)
    body = models.TextField(_("body (as received)"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.RECEIVED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("webhook received from Shopify")
        verbose_name_plural = _("webhooks received from Shopify")
        indexes = [
            models.Index(
                fields=["state", "next_attempt_at"],
                condition=Q(state__in=["received", "failed"]),
                name="shopify_webhook_to_apply",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.event_id}"


class ShopifyCall(models.Model):
    """One call to Shopify, an outbox-like message: queued in the caller's transaction, sent by a
    worker, retried with backoff, dead (and alerted) after ``SHOPIFY_CALL_MAX_ATTEMPTS``, retryable.

    ``idempotency_key`` is the same on every attempt, so that a mutation Shopify took before the
    answer was lost is replayed by Shopify rather than done twice.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        DEAD = "dead", _("Abandoned")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("type"), max_length=50)
    subject = models.CharField(
        _("subject"), max_length=100, blank=True, help_text=_("For instance an order number")
    )
    payload = models.JSONField(_("data"), default=dict, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    state = models.CharField(_("state"), max_length=9, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("call to Shopify")
        verbose_name_plural = _("calls to Shopify")
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], condition=Q(state="pending"), name="shopify_call_due"
            ),
            models.Index(fields=["kind", "subject"], name="shopify_call_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} ({self.state})"


class BulkOperation(models.Model):
    """A bulk mutation of ours at Shopify, recorded before it is waited for, so that a run that dies
    or stops waiting leaves it to the next run instead of starting it again (integration/shopify/bulk.py).

    ``preparing`` (the row made, its file being uploaded: ``staged_upload_path`` once done) →
    ``running`` (``bulkOperationRunMutation`` sent at ``run_at``; ``gid`` once Shopify answered) →
    ``applied`` (its result recorded by the domain, in the transaction that records it), or
    ``failed``. ``covers`` says what its lines are, in their order; only the domain that made it reads it.
    """

    class State(models.TextChoices):
        PREPARING = "preparing", _("Preparing")
        RUNNING = "running", _("Running at Shopify")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")

    purpose = models.CharField(_("purpose"), max_length=40, help_text=_("What it does, e.g. catalogue"))
    state = models.CharField(_("state"), max_length=9, choices=State.choices, default=State.PREPARING)
    gid = models.CharField(_("Shopify id"), max_length=100, blank=True, db_index=True)
    staged_upload_path = models.CharField(_("staged upload path"), max_length=500, blank=True)
    covers = models.JSONField(_("lines"), default=list, blank=True)
    status = models.CharField(_("Shopify status"), max_length=20, blank=True)
    url = models.TextField(_("result URL"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    run_at = models.DateTimeField(_("run at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    lease = models.CharField(_("lease"), max_length=32, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("Shopify bulk operation")
        verbose_name_plural = _("Shopify bulk operations")
        indexes = [
            models.Index(
                fields=["purpose", "id"], condition=Q(state__in=["preparing", "running"]), name="shopify_bulk_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.gid or '(not started)'} ({self.state})"
