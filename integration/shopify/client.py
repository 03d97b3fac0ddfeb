"""The Admin API client: GraphQL over httpx, the access token, the cost-based pacing, the retries.

Why httpx and documents as files rather than Shopify's ``ShopifyAPI`` library: that library wraps
the REST API (legacy) and is not maintained for GraphQL; a GraphQL client is a POST, and keeping
every operation as a ``.graphql`` file validated against a vendored schema subset (graphql-core,
:mod:`integration.shopify.documents`) catches a wrong field when the file is loaded, not in
production.

- **Token**: the client credentials grant (``POST {admin}/admin/oauth/access_token``), kept in the
  database (:class:`AccessToken`) so that every process shares it, renewed
  ``SHOPIFY_TOKEN_RENEW_BEFORE_SECONDS`` before it expires, and once when Shopify answers 401.
  Neither the token nor the secret is ever logged or put in an error.
- **Pacing**: every answer carries ``extensions.cost.throttleStatus``; before a request the client
  estimates what the bucket holds now (what it held, plus the restore rate times the time since)
  and waits until it holds the cost this document last asked for. A ``THROTTLED`` answer (HTTP 200)
  waits for the restore of the missing points and is sent again.
- **Retries**: a 5xx, a timeout or a transport error is tried again with exponential backoff and
  full jitter (tenacity, ``SHOPIFY_HTTP_ATTEMPTS``), then :class:`ShopifyUnavailable`. Top-level
  GraphQL errors other than throttling raise :class:`ShopifyQueryError` naming them.
- **State**: each call records the connection's state for the admin (:class:`ConnectionState`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone
from graphql import parse, print_ast
from graphql.language import (
    ArgumentNode,
    DirectiveNode,
    FieldNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
)
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from integration.shopify.documents import document
from integration.shopify.models import AccessToken, ConnectionState

logger = logging.getLogger(__name__)

USER_AGENT = "retail-integration-platform-shopify/1.0"
#: A document's cost until Shopify has said what it asks for (most of ours cost 1 to 20 points).
DEFAULT_COST = 10.0
#: THROTTLED answers for one execute, then ShopifyUnavailable (another process drains the bucket,
#: or it never refills): a worker is not held for ever; the call queue tries again later.
MAX_THROTTLED = 5
MAX_WAIT_SECONDS = 30.0  # one wait, at most (a full standard bucket restores in 20 s)
PACING_MARGIN = 1.0


class ShopifyError(Exception):
    """Base of what the client raises."""


class ShopifyUnavailable(ShopifyError):
    """Shopify did not answer usefully (5xx, timeout, transport error) after the retries: try later."""


class ShopifyAuthError(ShopifyUnavailable):
    """The credentials were refused (the grant, or a token refused twice): try later, once fixed."""


class ShopifyQueryError(ShopifyError):
    """Shopify answered the request with top-level errors (not throttling): the document or its
    variables are wrong, and sending it again would change nothing."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class GraphQLAnswer:
    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    cost: dict[str, Any] | None = None


def answer_data(answer: GraphQLAnswer) -> dict[str, Any]:
    """The answer's ``data``; :class:`ShopifyQueryError` when Shopify answered none."""
    if answer.data is None:
        raise ShopifyQueryError("Shopify answered no data")
    return answer.data


class _Transient(Exception):
    """One attempt that may succeed if made again (5xx, timeout, transport)."""


# --- The idempotency directive ----------------------------------------------------------------------


def with_idempotency_key(source: str, key: str) -> str:
    """The document with ``@idempotent(key: "...")`` on each root field of its mutation."""
    document = parse(source)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.MUTATION:
        raise ValueError("an idempotency key is for a document holding one mutation")
    operation = operations[0]
    directive = DirectiveNode(
        name=NameNode(value="idempotent"),
        arguments=(ArgumentNode(name=NameNode(value="key"), value=StringValueNode(value=key)),),
    )
    selections = []
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and not any(
            d.name.value == "idempotent" for d in selection.directives or ()
        ):
            selection = dataclasses.replace(selection, directives=(*(selection.directives or ()), directive))
        selections.append(selection)
    new_operation = dataclasses.replace(
        operation, selection_set=dataclasses.replace(operation.selection_set, selections=tuple(selections))
    )
    definitions = tuple(new_operation if d is operation else d for d in document.definitions)
    return print_ast(dataclasses.replace(document, definitions=definitions))


# --- The client -------------------------------------------------------------------------------------


@dataclass
class _Bucket:
    available: float
    maximum: float
    restore_rate: float
    at: float  # time.monotonic() when Shopify said so

    def now(self, moment: float) -> float:
        return min(self.maximum, self.available + self.restore_rate * max(0.0, moment - self.at))


def _messages(errors: Any) -> str:
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    return str(errors)


def _codes(errors: Any) -> set[str]:
    if not isinstance(errors, list):
        return set()
    return {
        str((e.get("extensions") or {}).get("code", ""))
        for e in errors
        if isinstance(e, dict) and isinstance(e.get("extensions"), dict)
    }


class ShopifyClient:
    """One shop's Admin API. Thread-confined (one per worker); the token is shared through the database."""

    def __init__(
        self,
        *,
        shop: str,
        admin_url: str,
        api_version: str,
        client_id: str,
        client_secret: str,
        timeout: float = 10.0,
        http_attempts: int = 4,
        retry_base_seconds: float = 0.5,
        retry_max_seconds: float = 8.0,
        renew_before: timedelta = timedelta(hours=1),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.shop = shop
        self.admin_url = admin_url.rstrip("/")
        self.api_version = api_version
        self._client_id = client_id
        self._client_secret = client_secret
        self.http_attempts = max(1, http_attempts)
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.renew_before = renew_before
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, headers={"User-Agent": USER_AGENT}
        )
        self._bucket: _Bucket | None = None
        self._costs: dict[str, float] = {}
        #: Seconds waited for the bucket, and THROTTLED answers met (for the admin's and tests' eyes).
        self.waited_seconds = 0.0
        self.throttled_answers = 0

    def __repr__(self) -> str:  # never the secret
        return f"ShopifyClient(shop={self.shop!r}, api_version={self.api_version!r})"

    def close(self) -> None:
        self._http.close()

    @property
    def graphql_url(self) -> str:
        return f"{self.admin_url}/admin/api/{self.api_version}/graphql.json"

    # --- execute ----------------------------------------------------------------------------------

    def execute(
        self, name: str, variables: dict[str, Any] | None = None, *, idempotency_key: str | None = None
    ) -> GraphQLAnswer:
        """Run the document ``name`` (``documents/<name>.graphql``) with ``variables``.

        Returns the answer (``data``, ``cost``); raises :class:`ShopifyUnavailable` or
        :class:`ShopifyQueryError`. ``idempotency_key`` puts ``@idempotent(key:)`` on the mutation.
        """
        now = timezone.now()
        query = document(name)
        if idempotency_key:
            query = with_idempotency_key(query, idempotency_key)
        body = {"query": query, "variables": variables or {}}
        try:
            answer = self._execute(name, body, now)
        except ShopifyError as exc:
            self._record(now, error=f"{name}: {exc}")
            raise
        self._record(now)
        return answer

    def _execute(self, name: str, body: dict[str, Any], now: datetime) -> GraphQLAnswer:
        token = self._token(now)
        renewed = False
        throttled = 0
        while True:
            self._pace(name)
            headers = {"X-Shopify-Access-Token": token, "Content-Type": "application/json"}
            response = self._post_retrying(
                partial(self._http.post, self.graphql_url, json=body, headers=headers)
            )
            status = response.status_code
            if status == 401:
                if renewed:
                    raise ShopifyAuthError("the Admin API refused a freshly granted access token (HTTP 401)")
                token, renewed = self._token(now, rejected=token), True
                continue
            if status == 429:  # REST-style throttling: Retry-After, then again
                throttled += 1
                if throttled > MAX_THROTTLED:
                    raise ShopifyUnavailable(f"throttled {throttled} times (HTTP 429)")
                retry_after = response.headers.get("Retry-After") or ""
                self._wait(float(retry_after) if retry_after.replace(".", "", 1).isdigit() else 1.0)
                continue
            try:
                payload = response.json()
            except ValueError:
                payload = None
            if status >= 400 or not isinstance(payload, dict):
                detail = (
                    _messages(payload.get("errors")) if isinstance(payload, dict) else response.text[:200]
                )
                if status == 404:
                    raise ShopifyQueryError(
                        f"HTTP 404 at {self.graphql_url} (unknown API version?): {detail}"
                    )
                raise ShopifyQueryError(f"HTTP {status}: {detail or 'no GraphQL answer'}")
            cost = (payload.get("extensions") or {}).get("cost")
            self._note_cost(name, cost)
            errors = payload.get("errors") or []
            codes = _codes(errors)
            if "THROTTLED" in codes:
                throttled += 1
                self.throttled_answers += 1
                if throttled > MAX_THROTTLED:
                    raise ShopifyUnavailable(
                        f"throttled {throttled} times: the bucket does not refill in time"
                    )
                self._wait(self._restore_wait(cost))
                continue
            if errors:
                message = _messages(errors)
                if "INTERNAL_SERVER_ERROR" in codes:
                    raise ShopifyUnavailable(f"Shopify's internal error: {message}")
                raise ShopifyQueryError(message, errors if isinstance(errors, list) else [])
            return GraphQLAnswer(data=payload.get("data"), errors=[], cost=cost)

    # --- transport and its retries ------------------------------------------------------------------

    def _post_once(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            response = send()
        except httpx.TimeoutException as exc:
            raise _Transient(f"timeout ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:  # connection refused, reset, protocol errors...
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        return response

    def _post_retrying(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.http_attempts),
            wait=wait_random_exponential(multiplier=self.retry_base_seconds, max=self.retry_max_seconds),
            sleep=self._sleep,
        )
        try:
            return retrying(self._post_once, send)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise ShopifyUnavailable(f"{last} (after {self.http_attempts} attempts)") from last

    # --- the token ---------------------------------------------------------------------------------

    def _token(self, now: datetime, *, rejected: str | None = None) -> str:
        """The shared token while it has more than ``renew_before`` left (and is not the one just
        refused); otherwise a new one by the client credentials grant."""
        row = AccessToken.objects.filter(shop=self.shop).first()
        if row is not None and row.token != rejected and row.expires_at - self.renew_before > now:
            return row.token
        return self._grant(now)

    def _grant(self, now: datetime) -> str:
        url = f"{self.admin_url}/admin/oauth/access_token"
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        response = self._post_retrying(partial(self._http.post, url, data=form))
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code != 200 or not isinstance(payload, dict) or not payload.get("access_token"):
            said = ""
            if isinstance(payload, dict):  # Shopify's error and description, never the request's secret
                said = " ".join(
                    str(payload.get(k, "")) for k in ("error", "error_description", "errors")
                ).strip()
            raise ShopifyAuthError(
                f"the client credentials grant was refused (HTTP {response.status_code}){': ' + said if said else ''}"
            )
        expires_at = now + timedelta(seconds=int(payload.get("expires_in") or 86399))
        AccessToken.objects.update_or_create(
            shop=self.shop,
            defaults={"token": payload["access_token"], "scope": str(payload.get("scope", "")),
                      "obtained_at": now, "expires_at": expires_at},
        )  # fmt: skip
        ConnectionState.objects.update_or_create(
            shop=self.shop, defaults={"token_expires_at": expires_at, "api_version": self.api_version}
        )
        logger.info("Shopify access token obtained for %s, valid until %s", self.shop, expires_at.isoformat())
        return str(payload["access_token"])

    # --- pacing ----------------------------------------------------------------------------------

    def _note_cost(self, name: str, cost: Any) -> None:
        if not isinstance(cost, dict):
            return
        status = cost.get("throttleStatus") or {}
        with contextlib.suppress(KeyError, TypeError, ValueError):  # no throttle status: the last one stands
            self._bucket = _Bucket(
                available=float(status["currentlyAvailable"]),
                maximum=float(status["maximumAvailable"]),
                restore_rate=float(status["restoreRate"]),
                at=time.monotonic(),
            )
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float):
            self._costs[name] = float(requested)

    def _pace(self, name: str) -> None:
        """Wait until the bucket holds what ``name`` asks for (as far as we know it)."""
        bucket = self._bucket
        if bucket is None or bucket.restore_rate <= 0:
            return
        # A point more than the cost: what Shopify said is rounded, and it said it a moment ago.
        need = min(self._costs.get(name, DEFAULT_COST) + PACING_MARGIN, bucket.maximum)
        have = bucket.now(time.monotonic())
        if have < need:
            self._wait((need - have) / bucket.restore_rate)

    def _restore_wait(self, cost: Any) -> float:
        """After a THROTTLED answer: the time for the bucket to restore what the request asks for."""
        bucket = self._bucket
        if bucket is None or bucket.restore_rate <= 0:
            return 1.0
        requested = (cost or {}).get("requestedQueryCost") if isinstance(cost, dict) else None
        need = (float(requested) if isinstance(requested, int | float) else DEFAULT_COST) + PACING_MARGIN
        return max(0.05, (min(need, bucket.maximum) - bucket.now(time.monotonic())) / bucket.restore_rate)

    def _wait(self, seconds: float) -> None:
        seconds = min(MAX_WAIT_SECONDS, max(0.0, seconds))
        if seconds:
            self.waited_seconds += seconds
            self._sleep(seconds)

    # --- what staff see ------------------------------------------------------------------------------

    def _record(self, now: datetime, *, error: str = "") -> None:
        values: dict[str, Any] = {"api_version": self.api_version, "last_call_at": now}
        if self._bucket is not None:
            values.update(
                bucket_available=self._bucket.available,
                bucket_maximum=self._bucket.maximum,
                restore_rate=self._bucket.restore_rate,
            )
        if error:
            values.update(last_error=error[:2000], last_error_at=now)
        else:
            values["last_success_at"] = now
        ConnectionState.objects.update_or_create(shop=self.shop, defaults=values)


def shopify_client() -> ShopifyClient:
    """The client of the shop in the settings."""
    shop = settings.SHOPIFY_SHOP
    if not shop:
        raise ShopifyUnavailable("Shopify is not configured (SHOPIFY_SHOP is empty)")
    return ShopifyClient(
        shop=shop,
        admin_url=settings.SHOPIFY_ADMIN_URL or f"https://{shop}",
        api_version=settings.SHOPIFY_API_VERSION,
        client_id=settings.SHOPIFY_CLIENT_ID,
        client_secret=settings.SHOPIFY_CLIENT_SECRET,
        timeout=float(settings.SHOPIFY_TIMEOUT_SECONDS),
        http_attempts=int(settings.SHOPIFY_HTTP_ATTEMPTS),
        retry_base_seconds=float(settings.SHOPIFY_HTTP_RETRY_BASE_SECONDS),
        retry_max_seconds=float(settings.SHOPIFY_HTTP_RETRY_MAX_SECONDS),
        renew_before=timedelta(seconds=int(settings.SHOPIFY_TOKEN_RENEW_BEFORE_SECONDS)),
    )
