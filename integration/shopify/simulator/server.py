"""The simulator's HTTP server: Shopify's endpoints, the control API (``/_sim/...``), webhooks."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import heapq
import hmac
import http.client
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterable, Awaitable
from email import policy
from email.parser import BytesParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import parse_qs, urlparse

import graphql

from integration.shopify.documents import schema as admin_schema
from integration.shopify.simulator import graph
from integration.shopify.simulator.shop import Shop, ShopError, new_state

TOPICS = {
    "BULK_OPERATIONS_FINISH": "bulk_operations/finish", "FULFILLMENTS_CREATE": "fulfillments/create",
    "INVENTORY_LEVELS_UPDATE": "inventory_levels/update", "ORDERS_CANCELLED": "orders/cancelled",
    "ORDERS_CREATE": "orders/create", "ORDERS_FULFILLED": "orders/fulfilled", "ORDERS_PAID": "orders/paid",
    "ORDERS_UPDATED": "orders/updated", "PRODUCTS_CREATE": "products/create",
    "PRODUCTS_UPDATE": "products/update", "REFUNDS_CREATE": "refunds/create",
}  # fmt: skip
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # Shopify's 8 retries over 4 hours, compressed
TOKEN_SECONDS = 86399
HOLD_SECONDS = 300.0  # an answer held by fault_hold_answer is sent after this at the latest


@dataclasses.dataclass
class AnswerHold:
    """One held answer (:meth:`ShopifySimulator.fault_hold_answer`)."""

    mutation: str
    applied: threading.Event = dataclasses.field(default_factory=threading.Event)
    release: threading.Event = dataclasses.field(default_factory=threading.Event)


class Bucket:
    """Shopify's leaky bucket for one app: ``maximum`` points, restored at ``rate`` a second."""

    def __init__(self, maximum: float = 2000.0, rate: float = 100.0) -> None:
        self.maximum, self.rate, self.available, self.at = maximum, rate, maximum, time.monotonic()

    def refill(self) -> float:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self.at) * self.rate)
        self.at = now
        return self.available

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": self.rate,
        }


class ShopifySimulator:
    """One simulated shop behind a real HTTP server on loopback (see README.md)."""

    def __init__(
        self,
        shop: str = "test-shop.myshopify.com",
        client_id: str = "sim-client-id",
        client_secret: str = "sim-client-secret",
        api_version: str = "2026-10",
        webhook_url: str | None = None,
        *,
        port: int = 0,
        state_file: str | Path | None = None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.shop_domain, self.client_id, self.client_secret = shop, client_id, client_secret
        self.api_version, self.webhook_url, self.port = api_version, webhook_url, port
        self.state_file = Path(state_file) if state_file else None
        self.retry_delays = retry_delays
        state = new_state(shop)
        if self.state_file and self.state_file.exists():
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
        self.shop = Shop(state)
        self.lock = threading.RLock()
        self.schema = admin_schema()
        self.tokens: dict[str, float] = dict(state.get("tokens", {}))
        self.bucket = Bucket()
        self.idempotent: dict[tuple[str, str], Any] = {}
        self._documents: dict[str, graphql.DocumentNode | dict[str, Any]] = {}
        self.server_errors: list[int] = []
        self.slow_seconds = 0.0
        self.answer_holds: list[AnswerHold] = []
        self.bulk_holds: list[AnswerHold] = []
        self.webhook_faults: list[dict[str, Any]] = []
        self.held_late: list[dict[str, Any]] = []
        self.held_out_of_order: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self._queue: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = 0
        self._wake = threading.Condition()
        self._pending = 0
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self.url = ""

    # --- life --------------------------------------------------------------------------------------

    def start(self) -> str:
        simulator = self

        class Handler(_Handler):
            sim = simulator

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping = False
        for target in (self._server.serve_forever, self._deliver_loop):
            thread = threading.Thread(target=target, daemon=True, name=f"shopify-sim-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        return self.url

    def stop(self) -> None:
        self._stopping = True
        for hold in self.answer_holds:
            hold.release.set()
        with self._wake:
            self._wake.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        self.save()

    def __enter__(self) -> ShopifySimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def save(self) -> None:
        if not self.state_file:
            return
        with self.lock:  # one save at a time: the request threads share the temporary file
            self.shop.state["tokens"] = self.tokens
            text = json.dumps(self.shop.state, ensure_ascii=False, indent=1)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(self.state_file)

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/admin/api/{self.api_version}/graphql.json"

    # --- seeding and admin-like changes (also /_sim/<name>) -------------------------------------------

    def seed_locations(self) -> list[dict[str, Any]]:
        with self.lock:
            return self.shop.locations_seed()

    def location_add(
        self, name: str, pickup: bool = False, fulfills_online_orders: bool = True
    ) -> dict[str, Any]:
        with self.lock:
            return self.shop.location_add(name, pickup=pickup, fulfills_online_orders=fulfills_online_orders)

    def set_available(self, sku: str, quantity: int, location: int | str | None = None) -> dict[str, Any]:
        """The merchant counting stock in the admin (no webhook)."""
        with self.lock:
            variant = self.shop.variant_by_sku(sku)
            if variant is None:
                raise ShopError(f"no variant with SKU {sku!r}")
            loc = self.shop.location(location)
            level = self.shop._level(variant["inventory_item_id"], loc["id"])
            delta = quantity - level["available"]
            return dict(self.shop.level_change(level["item_id"], loc["id"], available=delta, on_hand=delta))

    def available(self, sku: str, location: int | str | None = None) -> int:
        with self.lock:
            variant = self.shop.variant_by_sku(sku)
            if variant is None:
                raise ShopError(f"no variant with SKU {sku!r}")
            level = self.shop.level(variant["inventory_item_id"], self.shop.location(location)["id"])
            return int(level["available"]) if level else 0

    def product_update_in_admin(self, sku: str, **changes: Any) -> dict[str, Any]:
        with self.lock:
            product = self.shop.product_update_in_admin(sku, **changes)
            payload = self.product_payload(product)
        self.webhook_send("products/update", payload)
        return payload

    def checkout(
        self,
        lines: list[dict[str, Any]],
        customer: dict[str, Any] | None = None,
        pickup_location: int | str | None = None,
        discount: Any = None,
        shipping: dict[str, Any] | None = None,
        oversell: bool = False,
        paid: bool = True,
    ) -> dict[str, Any]:
        """A customer's order (Shopify's checkout): units committed, ``orders/create`` then
        ``orders/paid`` sent. Raises ShopError (409 on /_sim/checkout) when a level is short."""
        from integration.shopify.simulator import orders

        with self.lock:
            order = orders.checkout(
                self.shop,
                lines,
                customer=customer,
                pickup_location=pickup_location,
                discount=discount,
                shipping=shipping,
                oversell=oversell,
            )
            if not paid:
                order["financial_status"] = "pending"
            payload = orders.order_payload(self.shop, order)
        self.webhook_send("orders/create", payload)
        if paid:
            self.webhook_send("orders/paid", payload)
        self.save()
        return payload

    def _order(self, ref: int | str) -> dict[str, Any]:
        for order in self.shop.state["orders"].values():
            if str(ref) in (str(order["id"]), order["name"], f"gid://shopify/Order/{order['id']}"):
                return order  # type: ignore[no-any-return]
        raise ShopError(f"no order {ref!r}")

    def order_payload(self, ref: int | str) -> dict[str, Any]:
        from integration.shopify.simulator import orders

        with self.lock:
            return orders.order_payload(self.shop, self._order(ref))

    def cancel_in_admin(
        self, order: int | str, reason: str = "customer", restock: bool = True
    ) -> dict[str, Any]:
        """Staff cancelling in Shopify's admin: ``orders/cancelled``."""
        from integration.shopify.simulator import orders

        with self.lock:
            record = self._order(order)
            orders.cancel(self.shop, record, reason=reason, restock=restock, refund=True)
            payload = orders.order_payload(self.shop, record)
        self.webhook_send("orders/cancelled", payload)
        self.save()
        return payload

    def refund_in_admin(
        self, order: int | str, lines: list[dict[str, Any]], restock: bool = True, note: str | None = None
    ) -> dict[str, Any]:
        """Staff refunding in the admin: ``lines`` [{"sku", "quantity"}], restocked as a return at the
        line's location (``cancel`` when not fulfilled yet); ``refunds/create`` (and ``orders/updated``)."""
        from integration.shopify.simulator import orders

        with self.lock:
            record = self._order(order)
            rows = []
            for line in lines:
                match = next((ln for ln in record["lines"] if ln["sku"] == line["sku"]), None)
                if match is None:
                    raise ShopError(f"no line with SKU {line['sku']!r} in {record['name']}")
                kind = ("return" if match["fulfilled"] else "cancel") if restock else "no_restock"
                rows.append({"line_id": match["id"], "quantity": line["quantity"], "restock_type": kind})
            refund = orders.refund_create(self.shop, record, rows, note=note)
            payload = orders.refund_payload(self.shop, refund)
            order_body = orders.order_payload(self.shop, record)
        self.webhook_send("refunds/create", payload)
        self.webhook_send("orders/updated", order_body)
        self.save()
        return payload

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # --- faults (also /_sim/fault_<name>) -----------------------------------------------------------

    def fault_webhooks(self, mode: str, count: int = 1, topic: str | None = None) -> None:
        """The next ``count`` webhooks (of ``topic``, or any): ``twice`` (delivered twice), ``late``
        (held until :meth:`release_late`), ``out_of_order`` (delivered after the next one), ``never``."""
        if mode not in ("twice", "late", "out_of_order", "never"):
            raise ShopError(f"unknown webhook fault {mode!r}")
        with self.lock:
            self.webhook_faults.append({"mode": mode, "count": count, "topic": topic})

    def release_late(self) -> int:
        with self.lock:
            held, self.held_late = self.held_late, []
        for delivery in held:
            self._enqueue(delivery, 0.0)
        return len(held)

    def fault_throttle(self, maximum: float = 50.0, rate: float = 10.0) -> None:
        with self.lock:
            self.bucket = Bucket(maximum, rate)

    def fault_server_errors(self, count: int, status: int = 503) -> None:
        with self.lock:
            self.server_errors.extend([status] * count)

    def fault_slow(self, seconds: float) -> None:
        self.slow_seconds = seconds

    def fault_hold_answer(self, mutation: str) -> AnswerHold:
        """The next request running the mutation field ``mutation`` (``fulfillmentCreate``...) is
        applied, then its answer held until ``release`` is set: a client that dies meanwhile took
        effect at Shopify without hearing it (``applied`` is set when the mutation is done)."""
        hold = AnswerHold(mutation)
        with self.lock:
            self.answer_holds.append(hold)
        return hold

    def fault_hold_bulk(self) -> AnswerHold:
        """The next bulk operation started stays RUNNING until the returned hold's ``release`` is set
        (``applied`` is set once it is RUNNING): a long first sync, to kill its waiter meanwhile.
        Released after HOLD_SECONDS at the latest."""
        hold = AnswerHold("bulk")
        with self.lock:
            self.bulk_holds.append(hold)
        return hold

    def _answer_hold(self, fields: list[str]) -> AnswerHold | None:
        with self.lock:
            for hold in self.answer_holds:
                if hold.mutation in fields:
                    self.answer_holds.remove(hold)
                    return hold
        return None

    def faults_clear(self) -> None:
        with self.lock:
            for hold in [*self.answer_holds, *self.bulk_holds]:
                hold.release.set()
            self.answer_holds, self.bulk_holds = [], []
            self.webhook_faults, self.server_errors, self.slow_seconds = [], [], 0.0
            self.bucket = Bucket()

    # --- the access token ---------------------------------------------------------------------------

    def token_grant(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if params.get("grant_type") != "client_credentials":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "The authorization grant type is not supported.",
            }
        if not (
            hmac.compare_digest(params.get("client_id", ""), self.client_id)
            and hmac.compare_digest(params.get("client_secret", ""), self.client_secret)
        ):
            return 401, {
                "error": "invalid_client",
                "error_description": "Client authentication failed due to unknown client.",
            }
        token = "shpat_" + secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = time.time() + TOKEN_SECONDS
        return 200, {"access_token": token, "scope": SCOPES, "expires_in": TOKEN_SECONDS}

    def token_valid(self, token: str | None) -> bool:
        with self.lock:
            expires = self.tokens.get(token or "")
        return expires is not None and expires > time.time()

    # --- GraphQL ------------------------------------------------------------------------------------

    def _parsed(self, query: str) -> graphql.DocumentNode | dict[str, Any]:
        """The query parsed and validated, or the errors Shopify answers for it. The connector
        sends a few documents many times (a bulk mutation once per line): each text is parsed and
        validated once, as Shopify caches them."""
        known = self._documents.get(query)
        if known is not None:
            return known
        try:
            parsed = graphql.parse(query)
        except graphql.GraphQLError as error:
            return {"errors": [_error(error, "PARSE_ERROR")]}
        errors = graphql.validate(self.schema, parsed)
        doc: graphql.DocumentNode | dict[str, Any] = parsed
        if errors:
            doc = {"errors": [_error(e, "GRAPHQL_VALIDATION_FAILED") for e in errors]}
        if len(self._documents) >= 256:
            self._documents.clear()
        self._documents[query] = doc
        return doc

    def _executor(
        self, doc: graphql.DocumentNode, operation_name: str | None, variables: Any, root: Root
    ) -> graphql.Executor | dict[str, Any]:
        """The executor of this request, its variables coerced against the operation's declarations,
        or Shopify's answer to variables that do not fit them (HTTP 200, an error naming each
        variable, no data). Built before anything else reads the variables (the cost, the
        resolvers), and once: the executor runs on the values coerced here (a bulk mutation's
        50,000 lines were each coerced twice when the check and the execution did it apart)."""
        if not isinstance(variables, dict):
            return {
                "errors": [
                    {"message": "Variables must be a JSON object", "extensions": {"code": "BAD_REQUEST"}}
                ]
            }
        executor = graphql.Executor.build(
            self.schema,
            doc,
            root_value=root,
            raw_variable_values=variables,
            operation_name=operation_name,
            is_awaitable=_not_awaitable,
            is_async_iterable=_not_async_iterable,
        )
        if not isinstance(executor, list):
            return executor
        errors = []
        for error in executor:
            out = _error(error, "INVALID_VARIABLE")
            name = re.match(r"Variable '\$(\w+)'", error.message)
            if name:
                out["extensions"]["value"] = variables.get(name.group(1))
            errors.append(out)
        return {"errors": errors}

    def graphql_answer(
        self, body: dict[str, Any], *, bulk: bool = False, mutated: list[str] | None = None
    ) -> dict[str, Any]:
        """The JSON Shopify answers for one GraphQL request (always HTTP 200); the mutation fields
        it ran are added to ``mutated`` when given."""
        query, variables = body.get("query"), body.get("variables") or {}
        if not isinstance(query, str):
            return {
                "errors": [{"message": "Parameter Missing or Invalid", "extensions": {"code": "BAD_REQUEST"}}]
            }
        parsed = self._parsed(query)
        if isinstance(parsed, dict):
            return {"errors": [dict(e) for e in parsed["errors"]]}
        doc = parsed
        operation = graphql.get_operation_ast(doc, body.get("operationName"))
        if operation is None:
            return {
                "errors": [
                    {"message": "An operation name is required", "extensions": {"code": "BAD_REQUEST"}}
                ]
            }
        is_mutation = operation.operation == graphql.OperationType.MUTATION
        outbox: list[tuple[str, dict[str, Any]]] = []
        with self.lock:
            executor = self._executor(
                doc, body.get("operationName"), variables, Root(self, outbox, variables, bulk=bulk)
            )
            if isinstance(executor, dict):
                return executor
            requested = graph.query_cost(self.schema, doc, operation, variables)
            if not bulk:
                if requested > 1000:
                    return {
                        "errors": [
                            {
                                "message": f"Query cost is {requested}, which exceeds the single query max cost limit (1000).",
                                "extensions": {
                                    "code": "MAX_COST_EXCEEDED",
                                    "cost": requested,
                                    "maxCost": 1000,
                                },
                            }
                        ]
                    }
                available = self.bucket.refill()
                if requested > available:
                    return {
                        "errors": [
                            {
                                "message": "Throttled",
                                "extensions": {
                                    "code": "THROTTLED",
                                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                                },
                            }
                        ],
                        "extensions": {
                            "cost": {
                                "requestedQueryCost": requested,
                                "actualQueryCost": None,
                                "throttleStatus": self.bucket.status(),
                            }
                        },
                    }
            result = executor.execute_operation()
            assert isinstance(result, graphql.ExecutionResult)  # every resolver is synchronous
            answer: dict[str, Any] = {}
            if result.errors:
                answer["errors"] = [
                    _error(
                        e,
                        "INTERNAL_SERVER_ERROR"
                        if e.original_error and not isinstance(e.original_error, graphql.GraphQLError)
                        else None,
                    )
                    for e in result.errors
                ]
            answer["data"] = result.data
            if is_mutation and mutated is not None:
                mutated.extend(f.name.value for f in operation.selection_set.selections
                               if isinstance(f, graphql.FieldNode))  # fmt: skip
            if is_mutation and result.data:
                for field in operation.selection_set.selections:
                    if isinstance(field, graphql.FieldNode):
                        key = graph.idempotency_key(field, variables)
                        name = (field.alias or field.name).value
                        if key and (field.name.value, key) not in self.idempotent:
                            self.idempotent[(field.name.value, key)] = result.data.get(name)
            if not bulk:
                actual = graph.actual_cost(result.data, requested, is_mutation)
                self.bucket.available -= actual
                answer["extensions"] = {
                    "cost": {
                        "requestedQueryCost": requested,
                        "actualQueryCost": actual,
                        "throttleStatus": self.bucket.status(),
                    }
                }
        for topic, payload in outbox:
            self.webhook_send(topic, payload)
        if is_mutation and self.state_file:
            self.save()
        return answer

    # --- webhooks -----------------------------------------------------------------------------------

    def webhook_targets(self, topic: str) -> list[str]:
        with self.lock:
            uris = [
                s["uri"] for s in self.shop.state["subscriptions"].values() if TOPICS.get(s["topic"]) == topic
            ]
        if self.webhook_url and self.webhook_url not in uris:
            uris.append(self.webhook_url)
        return uris

    def webhook_send(self, topic: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver ``payload`` as a ``topic`` webhook to every target, signed; the faults apply.
        Nothing is built for a topic no one subscribed to (every line of a bulk mutation would)."""
        targets = self.webhook_targets(topic)
        if not targets:
            return []
        body = json.dumps(payload, ensure_ascii=False).encode()
        event_id = str(uuid.uuid4())
        triggered = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1_000_000:06d}Z"
        )
        made = []
        for uri in targets:
            delivery = {
                "topic": topic,
                "uri": uri,
                "body": body,
                "webhook_id": str(uuid.uuid4()),
                "event_id": event_id,
                "triggered_at": triggered,
                "attempts": 0,
                "state": "pending",
                "statuses": [],
            }
            with self.lock:
                self.deliveries.append(delivery)
                fault = self._fault_for(topic)
            made.append(delivery)
            if fault == "never":
                delivery["state"] = "dropped"
                continue
            if fault == "late":
                delivery["state"] = "held"
                with self.lock:
                    self.held_late.append(delivery)
                continue
            if fault == "out_of_order":
                delivery["state"] = "held"
                with self.lock:
                    self.held_out_of_order.append(delivery)
                continue
            self._enqueue(delivery, 0.0)
            if fault == "twice":
                twin = {**delivery, "attempts": 0, "statuses": [], "state": "pending"}
                with self.lock:
                    self.deliveries.append(twin)
                self._enqueue(twin, 0.0)
            with self.lock:
                held, self.held_out_of_order = self.held_out_of_order, []
            for late in held:
                self._enqueue(late, 0.0)
        return made

    def _fault_for(self, topic: str) -> str | None:
        for fault in self.webhook_faults:
            if fault["topic"] in (None, topic) and fault["count"] > 0:
                fault["count"] -= 1
                mode: str = fault["mode"]
                self.webhook_faults = [f for f in self.webhook_faults if f["count"] > 0]
                return mode
        return None

    def _enqueue(self, delivery: dict[str, Any], delay: float) -> None:
        with self._wake:
            self._seq += 1
            self._pending += 1
            delivery["state"] = "pending"
            heapq.heappush(self._queue, (time.monotonic() + delay, self._seq, delivery))
            self._wake.notify_all()

    def _deliver_loop(self) -> None:
        while not self._stopping:
            with self._wake:
                if not self._queue or self._queue[0][0] > time.monotonic():
                    timeout = (self._queue[0][0] - time.monotonic()) if self._queue else 0.5
                    self._wake.wait(max(0.0, min(timeout, 0.5)))
                    continue
                _, _, delivery = heapq.heappop(self._queue)
            ok = self._post(delivery)
            with self._wake:
                self._pending -= 1
                if ok:
                    delivery["state"] = "delivered"
                elif delivery["attempts"] > len(self.retry_delays):
                    delivery["state"] = "failed"
                else:
                    self._wake.notify_all()
            if not ok and delivery["state"] != "failed":
                self._enqueue(delivery, self.retry_delays[delivery["attempts"] - 1])

    def _post(self, delivery: dict[str, Any]) -> bool:
        delivery["attempts"] += 1
        body: bytes = delivery["body"]
        signature = base64.b64encode(
            hmac.new(self.client_secret.encode(), body, hashlib.sha256).digest()
        ).decode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery["topic"],
            "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": delivery["webhook_id"],
            "X-Shopify-Event-Id": delivery["event_id"],
            "X-Shopify-Triggered-At": delivery["triggered_at"],
            "User-Agent": "Shopify-Captain-Hook",
        }
        target = urlparse(delivery["uri"])
        connection_class = (
            http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        )
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        try:
            conn = connection_class(target.netloc, timeout=5)
            try:
                conn.request("POST", path, body, headers)
                status = conn.getresponse().status
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as error:
            delivery["statuses"].append(str(error))
            return False
        delivery["statuses"].append(status)
        return 200 <= status < 300

    def webhooks_wait(self, timeout: float = 10.0) -> bool:
        """Until no delivery is pending (held ones aside); False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.1))
        return True

    # --- bulk operations --------------------------------------------------------------------------

    def bulk_run(self, op_id: int, text: str, lines: list[str] | None) -> None:
        """Run a bulk operation: each JSONL line's variables through the mutation, or the query
        over everything; the result as JSONL at a URL; then ``bulk_operations/finish``."""
        from integration.shopify.simulator.payloads import bulk_finish_payload
        from integration.shopify.simulator.resolvers import flatten

        with self.lock:
            op = self.shop.state["bulk_operations"][str(op_id)]
            op["status"] = "RUNNING"
            hold = self.bulk_holds.pop(0) if self.bulk_holds else None
        if hold is not None:
            hold.applied.set()
            hold.release.wait(HOLD_SECONDS)
        out: list[str] = []
        roots = 0
        error_code = None
        if lines is None:
            answer = self.graphql_answer({"query": text}, bulk=True)
            if answer.get("errors") or not answer.get("data"):
                error_code = "INTERNAL_SERVER_ERROR"
            else:
                out, roots = flatten(answer["data"])
        else:
            out, roots = self.bulk_mutation_lines(text, lines)
        with self.lock:
            op["result"] = "".join(line + "\n" for line in out)
            op["status"] = "FAILED" if error_code else "COMPLETED"
            op["error_code"] = error_code
            op["completed_at"] = self.shop.now_z()
            op["object_count"] = len(out)
            op["root_object_count"] = roots
            op["file_size"] = len(op["result"].encode())
            op["url"] = f"{self.url}/_sim/bulk/{op_id}.jsonl" if out else None
            payload = bulk_finish_payload(op)
        self.webhook_send("bulk_operations/finish", payload)
        with self.lock:
            op["finish_sent"] = True
        self.save()

    def bulk_mutation_lines(self, text: str, lines: list[str]) -> tuple[list[str], int]:
        """A bulk mutation's work: ``text`` run once per JSONL line with that line's variables.
        The result lines (``{"data"|"errors", "__lineNumber"}``) and how many ran. Also what
        bench/shopify_catalogue.py times as the simulator's own floor (no HTTP, no upload)."""
        out: list[str] = []
        roots = 0
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                variables = json.loads(line)
            except ValueError:
                out.append(
                    json.dumps(
                        {
                            "errors": [{"message": f"Invalid JSON on line {number + 1}"}],
                            "__lineNumber": number,
                        }
                    )
                )
                continue
            answer = self.graphql_answer({"query": text, "variables": variables}, bulk=True)
            out.append(
                json.dumps(
                    {**{k: v for k, v in answer.items() if k != "extensions"}, "__lineNumber": number},
                    ensure_ascii=False,
                )
            )
            roots += 1
        return out, roots

    def bulk_wait(self, op_gid: str, timeout: float = 10.0) -> dict[str, Any]:
        """Until the bulk operation is finished; its record."""
        deadline = time.monotonic() + timeout
        number = op_gid.rsplit("/", 1)[-1]
        while True:
            with self.lock:
                op = dict(self.shop.state["bulk_operations"][number])
            if op.get("finish_sent") or time.monotonic() > deadline:
                return op
            time.sleep(0.02)

    # --- REST payloads (webhook bodies) -------------------------------------------------------------

    def product_payload(self, product: dict[str, Any]) -> dict[str, Any]:
        from integration.shopify.simulator.payloads import product_payload

        return product_payload(self.shop, product)


SCOPES = "read_products,write_products,read_inventory,write_inventory,read_locations,read_orders,write_orders,read_fulfillments,write_fulfillments,read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders"


def _not_awaitable(_value: Any) -> TypeGuard[Awaitable[Any]]:
    """No resolver of the simulator returns an awaitable (what ``execute_sync`` assumes too)."""
    return False


def _not_async_iterable(_value: Any) -> TypeGuard[AsyncIterable[Any]]:
    return False


def _error(error: graphql.GraphQLError, code: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"message": error.message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    extensions = dict(error.extensions or {})
    if code and "code" not in extensions:
        extensions["code"] = code
    if extensions:
        out["extensions"] = extensions
    return out


class Root(dict):  # type: ignore[type-arg]
    """The root value: every root field a callable (graphql-core's default resolver calls it)."""

    def __init__(
        self,
        sim: ShopifySimulator,
        outbox: list[tuple[str, dict[str, Any]]],
        variables: dict[str, Any],
        *,
        bulk: bool = False,
    ) -> None:
        super().__init__()
        from integration.shopify.simulator.resolvers import resolvers

        self.sim, self.outbox, self.variables, self.bulk = sim, outbox, variables, bulk
        for name, fn in resolvers(self).items():
            self[name] = self._replayable(name, fn)

    def _replayable(self, name: str, fn: Any) -> Any:
        def call(info: graphql.GraphQLResolveInfo, **args: Any) -> Any:
            if info.operation.operation == graphql.OperationType.MUTATION:
                key = graph.idempotency_key(info.field_nodes[0], self.variables)
                if key and (name, key) in self.sim.idempotent:
                    return self.sim.idempotent[(name, key)]
            return fn(info, **args)

        return call


class _Handler(BaseHTTPRequestHandler):
    sim: ShopifySimulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Shopify-API-Version", self.sim.api_version)
        self.send_header("X-Request-Id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        match = re.fullmatch(r"/_sim/bulk/(\d+)\.jsonl", path)
        if match:
            with self.sim.lock:
                op = self.sim.shop.state["bulk_operations"].get(match.group(1))
            if op and op.get("result") is not None:
                self._send(200, op["result"].encode(), "application/jsonl")
                return
        if path == "/_sim/state":
            with self.sim.lock:
                state = json.loads(json.dumps(self.sim.shop.state))
            self._send(200, state)
            return
        if path == "/_sim/deliveries":
            with self.sim.lock:
                rows = [{k: v for k, v in d.items() if k != "body"} for d in self.sim.deliveries]
            self._send(200, rows)
            return
        self._send(404, {"errors": "Not Found"})

    def do_PUT(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        path = urlparse(self.path).path
        raw = self._body()
        try:
            if path == "/admin/oauth/access_token":
                self._token(raw)
            elif path.startswith("/admin/api/"):
                self._graphql(path, raw)
            elif path.startswith("/_sim/staged-uploads"):
                self._upload(path, raw)
            elif path.startswith("/_sim/"):
                self._control(path[len("/_sim/") :], raw)
            else:
                self._send(404, {"errors": "Not Found"})
        except ShopError as error:
            self._send(409, {"error": str(error)})
        except (TypeError, KeyError, ValueError) as error:  # a control call or upload that makes no sense
            self._send(400, {"error": f"{type(error).__name__}: {error}"})

    def _token(self, raw: bytes) -> None:
        if "json" in (self.headers.get("Content-Type") or ""):
            try:
                params = {k: str(v) for k, v in json.loads(raw or b"{}").items()}
            except (ValueError, AttributeError):
                self._send(400, {"error": "invalid_request", "error_description": "The body is not JSON."})
                return
        else:
            params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        status, payload = self.sim.token_grant(params)
        self._send(status, payload)

    def _graphql(self, path: str, raw: bytes) -> None:
        match = re.fullmatch(r"/admin/api/([\w-]+)/graphql\.json", path)
        if not match or match.group(1) != self.sim.api_version:
            self._send(404, {"errors": "Not Found"})
            return
        if not self.sim.token_valid(self.headers.get("X-Shopify-Access-Token")):
            self._send(
                401,
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
            )
            return
        if self.sim.slow_seconds:
            time.sleep(self.sim.slow_seconds)
        with self.sim.lock:
            status = self.sim.server_errors.pop(0) if self.sim.server_errors else None
        if status:
            self._send(
                status,
                {"errors": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"},
            )
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            self._send(400, {"errors": {"query": "Required parameter missing or invalid"}})
            return
        mutated: list[str] = []
        answer = self.sim.graphql_answer(body, mutated=mutated)
        hold = self.sim._answer_hold(mutated) if mutated else None
        if hold is not None:
            hold.applied.set()
            hold.release.wait(HOLD_SECONDS)
            with contextlib.suppress(OSError):  # the client died meanwhile: nobody hears it
                self._send(200, answer)
            return
        self._send(200, answer)

    def _upload(self, path: str, raw: bytes) -> None:
        """The staged upload target: multipart form (POST, the ``key`` field names the file) or the
        raw body (PUT, the path names it)."""
        key = path[len("/_sim/staged-uploads") :].lstrip("/")
        content = raw
        ctype = self.headers.get("Content-Type") or ""
        if ctype.startswith("multipart/form-data"):
            message: Any = BytesParser(policy=policy.default).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw
            )
            fields: dict[str, bytes] = {}
            for part in message.get_payload() if message.is_multipart() else ():
                name = part.get_param("name", header="content-disposition")
                fields[str(name)] = part.get_payload(decode=True) or b""
            key = fields.get("key", b"").decode() or key
            content = fields.get("file", b"")
        with self.sim.lock:
            upload = self.sim.shop.state["uploads"].get(key)
            if upload is None:
                self._send(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
                return
            upload["content"] = content.decode("utf-8")
        self._send(201, b"<PostResponse><Key>" + key.encode() + b"</Key></PostResponse>", "application/xml")

    def _control(self, name: str, raw: bytes) -> None:
        if name not in CONTROL:
            self._send(404, {"error": f"no control {name!r}"})
            return
        try:
            kwargs = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, {"error": "the body is not JSON"})
            return
        result = getattr(self.sim, name)(**kwargs)
        self._send(200, {"result": result})


CONTROL = {
    "seed_locations", "location_add", "set_available", "available", "product_update_in_admin", "expire_tokens",
    "fault_webhooks", "release_late", "fault_throttle", "fault_server_errors", "fault_slow", "faults_clear",
    "checkout", "cancel_in_admin", "refund_in_admin", "webhooks_wait", "order_payload",
}  # fmt: skip
