"""Storefront clients of the REST API: create, rotate, deactivate, and find one by its token.

A token is ``secrets.token_urlsafe(32)`` (43 characters, 256 bits). It is returned once, by
:func:`storefront_client_create` or :func:`storefront_client_rotate`; the database keeps its
SHA-256 and its first :data:`PREFIX_LENGTH` characters. A plain hash (no salt, no slow KDF) is
enough for a random 256-bit secret: nobody can guess one from its hash, and checking a request
must stay cheap.

A client's webhooks (:func:`storefront_client_webhook_set`): an endpoint, the event types it wants,
and a secret the signatures are made with (``secrets.token_urlsafe(32)`` too). The secret must be
kept as it is (an HMAC needs the key itself, not a hash of it), but like the token it is returned
once, when generated or rotated (:func:`storefront_client_webhook_secret_rotate`), and never shown
again by the admin or the command line.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from integration.core.reference_cache import reference
from integration.models import StorefrontClient, StorefrontEvent
from integration.storefront.netcheck import host_refusal, private_networks_allowed

PREFIX_LENGTH = 8
DEFAULT_RATE_LIMIT = 600  # requests per minute
LAST_USED_PRECISION = timedelta(minutes=1)  # at most one write per client and minute
SCOPES = tuple(StorefrontClient.Scope.values)
CLIENT_BY_TOKEN = "storefront_client_by_token:"  # + the token's hash: integration.core.reference_cache
WEBHOOK_EVENTS = tuple(StorefrontEvent.Type.values)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str, str]:
    """A fresh token, its prefix and its hash."""
    token = secrets.token_urlsafe(32)
    return token, token[:PREFIX_LENGTH], token_hash(token)


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = list(dict.fromkeys(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationError(
            {"scopes": gettext("unknown scope {scopes} (known: {known})").format(
                scopes=", ".join(unknown), known=", ".join(SCOPES)
            )}
        )  # fmt: skip
    return scopes


@transaction.atomic
def storefront_client_create(
    *,
    name: str,
    scopes: Iterable[str],
    can_see_pilot: bool = False,
    rate_limit: int = DEFAULT_RATE_LIMIT,
) -> tuple[StorefrontClient, str]:
    """Create a client; returns it and its token, which is shown this once and never stored."""
    token, prefix, digest = _new_token()
    client = StorefrontClient(
        name=name,
        scopes=_clean_scopes(scopes),
        can_see_pilot=can_see_pilot,
        rate_limit=rate_limit,
        token_prefix=prefix,
        token_hash=digest,
    )
    client.full_clean()
    client.save()
    return client, token


@transaction.atomic
def storefront_client_rotate(*, client: StorefrontClient) -> tuple[StorefrontClient, str]:
    """Give the client a new token; the old one stops working at once."""
    token, prefix, digest = _new_token()
    client.token_prefix, client.token_hash, client.token_rotated_at = prefix, digest, timezone.now()
    client.save(update_fields=["token_prefix", "token_hash", "token_rotated_at"])
    return client, token


def storefront_client_update(
    *,
    client: StorefrontClient,
    scopes: Iterable[str] | None = None,
    can_see_pilot: bool | None = None,
    rate_limit: int | None = None,
    active: bool | None = None,
) -> StorefrontClient:
    """Change what a client may do; the fields left to ``None`` stay as they are (``active=False``
    refuses its token from now on, ``True`` takes it again)."""
    fields = []
    if active is not None and active != client.active:
        client.active = active
        fields.append("active")
    if scopes is not None:
        client.scopes = _clean_scopes(scopes)
        fields.append("scopes")
    if can_see_pilot is not None:
        client.can_see_pilot = can_see_pilot
        fields.append("can_see_pilot")
    if rate_limit is not None:
        client.rate_limit = rate_limit
        fields.append("rate_limit")
    if fields:
        client.full_clean()
        client.save(update_fields=fields)
    return client


def storefront_client_deactivate(*, client: StorefrontClient) -> StorefrontClient:
    """Refuse the client's token from now on (its reservations run out by themselves)."""
    return storefront_client_update(client=client, active=False)


def storefront_client_by_token(token: str) -> StorefrontClient | None:
    """The client holding this token (active or not), or ``None``.

    Looked up by the token's SHA-256 (unique, indexed), never by any part of the token itself: how
    long the index takes to answer can only tell how much of a *hash* was right, which says
    nothing about any token. (Looking up by the stored prefix would let response times tell
    the token's first characters.) The hashes are then compared in constant time.

    A client found is kept a moment in the process (``integration.core.reference_cache``, under
    its token's hash), as the selling switch is: every storefront request authenticates, and the
    look-up was one of its two queries. Any save or delete of a client forgets them all at once in
    that process (a deactivation, a rotated token), and every other process within
    ``REFERENCE_CACHE_SECONDS``. An unknown token is never kept.
    """
    if not token or len(token) > 200:
        return None
    digest = token_hash(token)
    client = reference(
        f"{CLIENT_BY_TOKEN}{digest}",
        lambda: StorefrontClient.objects.filter(token_hash=digest).first(),
        keep_none=False,
    )
    if client is not None and hmac.compare_digest(client.token_hash, digest):
        return client
    return None


def storefront_client_touch(*, client: StorefrontClient, now: datetime | None = None) -> None:
    """Record that the client was seen, at most once a minute (a request must not always write)."""
    now = now or timezone.now()
    if client.last_used_at is not None and now - client.last_used_at < LAST_USED_PRECISION:
        return
    StorefrontClient.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION), pk=client.pk
    ).update(last_used_at=now)
    client.last_used_at = now


# --- Webhooks ---------------------------------------------------------------------------------


def webhook_url_clean(url: str) -> str:
    """The URL as kept, or a ValidationError: https (http only to this machine), no credentials in it."""
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    local_http = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and private_networks_allowed()
    if parts.scheme != "https" and not local_http:
        raise ValidationError({"webhook_url": gettext("must be an https:// URL (http:// only on this machine)")})
    refusal = host_refusal(parts.hostname or "", resolve=False)
    if refusal:
        raise ValidationError(
            {"webhook_url": gettext(
                "{refusal}: webhooks go to public addresses (WEBHOOK_ALLOW_PRIVATE_NETWORKS)"
            ).format(refusal=refusal)}
        )
    if parts.username or parts.password:
        raise ValidationError(
            {"webhook_url": gettext("must not carry a user or password: the signature authenticates")}
        )
    return url


def _clean_events(events: Iterable[str]) -> list[str]:
    events = list(dict.fromkeys(events))
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationError(
            {"webhook_events": gettext("unknown event {events} (known: {known})").format(
                events=", ".join(unknown), known=", ".join(WEBHOOK_EVENTS)
            )}
        )
    return events


@transaction.atomic
def storefront_client_webhook_set(
    *, client: StorefrontClient, url: str, events: Iterable[str] | None = None
) -> tuple[StorefrontClient, str | None]:
    """Set where the client's webhooks go (``""``: nowhere) and, if given, the event types it wants
    (an empty list: all of them).

    Returns the client and its new webhook secret when one was generated (the first URL given to a
    client without a secret): shown this once. A client that already has a secret keeps it; rotate
    it with :func:`storefront_client_webhook_secret_rotate`. Deliveries still pending when the URL
    changes go to the new one; when it is removed, they are given up (dead) when their turn comes.
    """
    client.webhook_url = webhook_url_clean(url)
    fields = ["webhook_url"]
    if events is not None:
        client.webhook_events = _clean_events(events)
        fields.append("webhook_events")
    secret = None
    if client.webhook_url and not client.webhook_secret:
        secret = client.webhook_secret = secrets.token_urlsafe(32)
        fields.append("webhook_secret")
    client.full_clean()
    client.save(update_fields=fields)
    return client, secret


@transaction.atomic
def storefront_client_webhook_secret_rotate(*, client: StorefrontClient) -> tuple[StorefrontClient, str]:
    """A new webhook secret, returned this once. Every webhook sent from now on (retries of pending
    ones included) is signed with it; the old one stops verifying at once."""
    client.webhook_secret = secrets.token_urlsafe(32)
    client.save(update_fields=["webhook_secret"])
    return client, client.webhook_secret
