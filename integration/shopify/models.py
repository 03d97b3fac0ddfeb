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

    shop = models.CharField("boutique", max_length=255, unique=True)
    token = models.CharField("jeton", max_length=255)
    scope = models.TextField("droits", blank=True)
    obtained_at = models.DateTimeField("obtenu le", default=timezone.now)
    expires_at = models.DateTimeField("expire le")

    class Meta:
        verbose_name = _("jeton d'accès Shopify")
        verbose_name_plural = _("jetons d'accès Shopify")

    def __str__(self) -> str:  # never the token itself
        return f"{self.shop} (expire le {self.expires_at:%Y-%m-%d %H:%M})"


class ConnectionState(models.Model):
    """What staff see of the connection to a shop: the last call, the last error, the bucket."""

    shop = models.CharField("boutique", max_length=255, unique=True)
    api_version = models.CharField("version de l'API", max_length=20, blank=True)
    last_call_at = models.DateTimeField("dernier appel", null=True, blank=True)
    last_success_at = models.DateTimeField("dernier appel réussi", null=True, blank=True)
    last_error = models.TextField("dernière erreur", blank=True)
    last_error_at = models.DateTimeField("date de la dernière erreur", null=True, blank=True)
    bucket_available = models.FloatField("points disponibles", null=True, blank=True)
    bucket_maximum = models.FloatField("points au maximum", null=True, blank=True)
    restore_rate = models.FloatField("points rendus par seconde", null=True, blank=True)
    token_expires_at = models.DateTimeField("le jeton expire le", null=True, blank=True)

    class Meta:
        verbose_name = _("état de la connexion Shopify")
        verbose_name_plural = _("état de la connexion Shopify")

    def __str__(self) -> str:
        return f"{self.shop} ({self.api_version})"


class WebhookEvent(models.Model):
    """One webhook event from Shopify, stored raw once per ``X-Shopify-Event-Id``, then applied.

    ``received`` → ``applied`` (its handler ran and committed with the state), ``ignored`` (no
    handler for its topic), or ``failed`` (the handler raised: nothing of it was kept; retried by
    the sweep while attempts are left, replayable by staff).
    """

    class State(models.TextChoices):
        RECEIVED = "received", _("Reçu (à appliquer)")
        APPLIED = "applied", _("Appliqué")
        IGNORED = "ignored", _("Ignoré (sujet non pris en charge)")
        FAILED = "failed", _("En échec")

    event_id = models.CharField("identifiant d'événement", max_length=100, unique=True)
    topic = models.CharField("sujet", max_length=100)
    webhook_id = models.CharField("identifiant de webhook", max_length=100, blank=True)
    triggered_at = models.DateTimeField("déclenché le", null=True, blank=True)
    shop_domain = models.CharField("boutique", max_length=255, blank=True)
    api_version = models.CharField("version de l'API", max_length=20, blank=True)
    body = models.TextField("corps (tel que reçu)")
    received_at = models.DateTimeField("reçu le", default=timezone.now)
    state = models.CharField("état", max_length=8, choices=State.choices, default=State.RECEIVED)
    attempts = models.PositiveIntegerField("tentatives", default=0)
    next_attempt_at = models.DateTimeField("prochaine tentative", null=True, blank=True)
    last_error = models.TextField("dernière erreur", blank=True)
    applied_at = models.DateTimeField("appliqué le", null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("webhook reçu de Shopify")
        verbose_name_plural = _("webhooks reçus de Shopify")
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
        PENDING = "pending", _("En attente")
        DONE = "done", _("Fait")
        DEAD = "dead", _("Abandonné")
        CANCELLED = "cancelled", _("Annulé")

    kind = models.CharField("type", max_length=50)
    subject = models.CharField(
        "objet", max_length=100, blank=True, help_text=_("Par exemple un numéro de commande")
    )
    payload = models.JSONField("données", default=dict, blank=True)
    idempotency_key = models.CharField("clé d'idempotence", max_length=100, unique=True)
    state = models.CharField("état", max_length=9, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField("tentatives", default=0)
    next_attempt_at = models.DateTimeField("prochaine tentative", default=timezone.now)
    last_error = models.TextField("dernière erreur", blank=True)
    result = models.JSONField("résultat", null=True, blank=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    done_at = models.DateTimeField("fait le", null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("appel à Shopify")
        verbose_name_plural = _("appels à Shopify")
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], condition=Q(state="pending"), name="shopify_call_due"
            ),
            models.Index(fields=["kind", "subject"], name="shopify_call_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} ({self.state})"
