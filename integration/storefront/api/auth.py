"""Who is calling the REST API, what it may do, and how often: bearer tokens, scopes, rate limits.

- :class:`StorefrontTokenAuthentication`: ``Authorization: Bearer <token>`` names a
  :class:`~integration.models.StorefrontClient`; ``request.user`` and ``request.auth`` are that
  client. No header: the permission check answers 401 ``not_authenticated``; an unknown token
  401 ``invalid_token``; a deactivated client 401 ``client_inactive``; always with
  ``WWW-Authenticate: Bearer``.
- :class:`HasRequiredScope`: the view's ``required_scope`` must be among the client's scopes,
  else 403 ``insufficient_scope``. A view that declares none is refused to everyone.
- :class:`StorefrontClientThrottle`: at most ``client.rate_limit`` requests per minute per client,
  counted in Django's cache (Redis when ``REDIS_URL`` is set, so that every web process shares the
  counts); over it, 429 ``throttled`` with ``Retry-After``. When the cache cannot be reached,
  ``settings.API_THROTTLE_FAIL_OPEN`` decides: serve the request uncounted (the default: on a
  sale day a Redis outage must not stop checkouts; the load balancer still caps the traffic), or
  refuse it with 503 ``rate_limit_unavailable``. Either way it is logged, at most once a minute
  per process.

Requests without a valid token are not counted per client (there is none): each costs one
indexed lookup of a SHA-256. Flooding with bad tokens is for the load balancer's per-IP limits
(see README, "The storefront API"), since behind it every request may come from its address.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from integration.models import StorefrontClient
from integration.storefront.api.codes import ErrorCode
from integration.storefront.clients import storefront_client_by_token, storefront_client_touch

if TYPE_CHECKING:
    from rest_framework.views import APIView

KEYWORD = b"bearer"
logger = logging.getLogger(__name__)
_last_cache_warning = 0.0


class RateLimitUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "the rate limit cannot be checked right now; retry shortly"
    default_code = ErrorCode.RATE_LIMIT_UNAVAILABLE


class StorefrontTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[StorefrontClient, StorefrontClient] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "the Authorization header must be 'Bearer <token>'", code=ErrorCode.INVALID_TOKEN
            )
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            token = ""
        client = storefront_client_by_token(token)
        if client is None:
            raise exceptions.AuthenticationFailed("unknown token", code=ErrorCode.INVALID_TOKEN)
        if not client.active:
            raise exceptions.AuthenticationFailed(
                f"client {client.name} is deactivated", code=ErrorCode.CLIENT_INACTIVE
            )
        storefront_client_touch(client=client)
        return client, client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class HasRequiredScope(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        client = request.user
        if not isinstance(client, StorefrontClient):
            return False  # DRF answers 401: an authenticator exists and none succeeded
        scope = getattr(view, "required_scope", None)
        if scope is None or not client.has_scope(scope):
            raise exceptions.PermissionDenied(
                f"this endpoint needs the scope {scope or '(none declared)'}",
                code=ErrorCode.INSUFFICIENT_SCOPE,
            )
        return True


class StorefrontClientThrottle(SimpleRateThrottle):
    """A fixed one-minute window per client, counted with the cache's atomic increment.

    DRF's own throttles keep a list of timestamps that they read and write back, which loses
    counts when several processes serve one client at once; ``incr`` on Redis does not. The price
    is that a client may send up to twice its rate across a window's edge, which a per-minute
    limit can afford.
    """

    cache = cache
    scope = "storefront_client"
    window_seconds = 60

    def __init__(self) -> None:  # the rate is the client's own, not a setting
        self._wait: float | None = None

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        client = request.user
        if not isinstance(client, StorefrontClient):
            return None
        return f"throttle:storefront_client:{client.pk}"

    def allow_request(self, request: Request, view: APIView) -> bool:
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        client: Any = request.user
        self.num_requests, self.duration = client.rate_limit, self.window_seconds
        now = self.timer()
        start = math.floor(now / self.duration) * self.duration
        try:
            count = _increment(f"{key}:{start}", timeout=self.duration + 5)
        except Exception as exc:  # the cache (Redis) is down or too slow: see the module's docstring
            _warn_cache_down(exc)
            if getattr(settings, "API_THROTTLE_FAIL_OPEN", True):
                return True
            raise RateLimitUnavailable() from exc
        if count <= self.num_requests:
            return True
        self._wait = start + self.duration - now
        return False

    def wait(self) -> float | None:
        return None if self._wait is None else max(1, math.ceil(self._wait))


def _warn_cache_down(exc: Exception) -> None:
    global _last_cache_warning
    now = time.monotonic()
    if now - _last_cache_warning >= 60 or _last_cache_warning == 0.0:
        _last_cache_warning = now
        mode = "served uncounted" if getattr(settings, "API_THROTTLE_FAIL_OPEN", True) else "refused (503)"
        logger.error("rate-limit cache unreachable (%s: %s): requests are %s", type(exc).__name__, exc, mode)


def _increment(key: str, *, timeout: int) -> int:
    for _ in range(3):
        cache.add(key, 0, timeout=timeout)
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr
            continue
    return 1


class StorefrontTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = StorefrontTokenAuthentication
    name = "StorefrontToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A storefront client's token: `Authorization: Bearer <token>`. "
            "Created in the admin or by `manage.py storefront_client create NAME`, shown once.",
        }
