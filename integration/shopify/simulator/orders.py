"""Orders in the simulated shop: the checkout, fulfilment, cancel, refunds; their GraphQL views and
root fields; their REST webhook bodies."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from integration.shopify.simulator.graph import Views, connection
from integration.shopify.simulator.payloads import _t, money_set
from integration.shopify.simulator.shop import CENT, Shop, ShopError, gid, gid_parse, money


def checkout(
    shop: Shop,
    lines: list[dict[str, Any]],
    *,
    customer: dict[str, Any] | None = None,
    pickup_location: int | str | None = None,
    discount: Any = None,
    shipping: dict[str, Any] | None = None,
    oversell: bool = False,
) -> dict[str, Any]:
    """A customer's checkout: the order, its fulfillment orders, the units committed (refused when a
    level is short unless ``oversell`` or the variant continues selling).

    A shipped order's line may name the ``location`` that ships it (Shopify's order routing): the
    order then has one fulfillment order per location, each holding its lines."""
    if not lines:
        raise ShopError("a checkout needs at least one line")
    location = shop.location(pickup_location)
    if pickup_location is not None and not location["pickup"]:
        raise ShopError(f"location {location['name']!r} does not offer local pickup")
    wanted = []
    for line in lines:
        variant = shop.variant_by_sku(line["sku"])
        if variant is None:
            raise ShopError(f"no variant with SKU {line['sku']!r}")
        quantity = int(line["quantity"])
        if quantity <= 0:
            raise ShopError(f"quantity of {line['sku']} must be positive")
        at = location
        if line.get("location") is not None:
            if pickup_location is not None:
                raise ShopError("a pickup order is fulfilled at its pickup location only")
            at = shop.location(line["location"])
        level = shop._level(variant["inventory_item_id"], at["id"])
        item = shop.state["items"][str(variant["inventory_item_id"])]
        if (
            item["tracked"]
            and variant["inventory_policy"] == "DENY"
            and not oversell
            and level["available"] < quantity
        ):
            raise ShopError(
                f"{line['sku']}: only {level['available']} available at {at['name']}, {quantity} wanted"
            )
        wanted.append((variant, quantity, item, at))
    now = shop.now_z()
    subtotal = sum((Decimal(v["price"]) * q for v, q, _, _ in wanted), Decimal(0))
    discount_total = Decimal(money(discount["amount"] if isinstance(discount, dict) else discount or 0))
    discount_code = discount.get("code", "REMISE") if isinstance(discount, dict) else "REMISE"
    order_lines = []
    left = discount_total
    for index, (variant, quantity, item, at) in enumerate(wanted):
        product = shop.state["products"][str(variant["product_id"])]
        line_total = Decimal(variant["price"]) * quantity
        if index == len(wanted) - 1:
            share = left
        else:
            share = (
                (discount_total * line_total / subtotal).quantize(CENT, ROUND_DOWN)
                if subtotal
                else Decimal(0)
            )
        left -= share
        order_lines.append({
            "id": shop.next_id(), "variant_id": variant["id"], "product_id": product["id"], "sku": variant["sku"],
            "name": product["title"] if variant["title"] == "Default Title" else f"{product['title']} - {variant['title']}",
            "title": product["title"], "variant_title": variant["title"], "quantity": quantity, "current_quantity": quantity,
            "price": variant["price"], "discount": money(share), "taxable": variant["taxable"],
            "location_id": at["id"], "fulfilled": 0, "item_id": item["id"],
        })  # fmt: skip
        if item["tracked"]:
            shop.level_change(item["id"], at["id"], available=-quantity, committed=quantity)
    ship = shipping or ({"title": "Retrait en boutique", "price": "0.00"} if pickup_location is not None
                        else {"title": "Colissimo", "price": "4.90"})  # fmt: skip
    customer = customer or {"email": "client@example.com", "first_name": "Camille", "last_name": "Martin"}
    shop.state["next_order_number"] += 1
    number = shop.state["next_order_number"] - 1
    order = {
        "id": shop.next_id(), "number": number, "name": f"#{number}", "email": customer.get("email"),
        "created_at": now, "updated_at": now, "processed_at": now, "cancelled_at": None, "cancel_reason": None,
        "financial_status": "paid", "customer": {"id": shop.next_id(), **customer},
        "shipping_address": None if pickup_location is not None else {
            "first_name": customer.get("first_name"), "last_name": customer.get("last_name"),
            "address1": customer.get("address1", "12 rue de la Paix"), "address2": None,
            "city": customer.get("city", "Paris"), "zip": customer.get("zip", "75002"), "country_code": "FR",
            "phone": customer.get("phone")},
        "shipping_lines": [{"id": shop.next_id(), "title": ship["title"], "code": ship.get("code", ship["title"]),
                            "price": money(ship.get("price", "0"))}],
        "lines": order_lines, "discount_total": money(discount_total),
        "discount_code": discount_code if discount_total else None,
        "pickup_location_id": location["id"] if pickup_location is not None else None,
        "fulfillment_order_ids": [], "fulfillment_ids": [], "refund_ids": [],
    }  # fmt: skip
    shop.state["orders"][str(order["id"])] = order
    for location_id in dict.fromkeys(ln["location_id"] for ln in order_lines):  # one per location, in line order
        fo = {"id": shop.next_id(), "order_id": order["id"], "location_id": location_id, "status": "OPEN",
              "method": "PICK_UP" if pickup_location is not None else "SHIPPING", "created_at": now,
              "updated_at": now, "prepared": False,
              "lines": [{"id": shop.next_id(), "line_id": ln["id"], "total": ln["quantity"], "remaining": ln["quantity"]}
                        for ln in order_lines if ln["location_id"] == location_id]}  # fmt: skip
        order["fulfillment_order_ids"].append(fo["id"])
        shop.state["fulfillment_orders"][str(fo["id"])] = fo
    return order


def totals(order: dict[str, Any]) -> dict[str, str]:
    lines = order["lines"]
    subtotal = sum((Decimal(ln["price"]) * ln["current_quantity"] for ln in lines), Decimal(0))
    discounts = sum((Decimal(ln["discount"]) for ln in lines if ln["current_quantity"]), Decimal(0))
    shipping = sum((Decimal(s["price"]) for s in order["shipping_lines"]), Decimal(0))
    total = subtotal - discounts + shipping
    tax = (total - total / Decimal("1.2")).quantize(CENT)
    return {
        "subtotal": money(subtotal - discounts),
        "discounts": money(discounts),
        "shipping": money(shipping),
        "total": money(total),
        "tax": money(tax),
        "line_items": money(subtotal),
    }


def fulfillment_status(shop: Shop, order: dict[str, Any]) -> str | None:
    quantities = [ln["current_quantity"] for ln in order["lines"]]
    fulfilled = [ln["fulfilled"] for ln in order["lines"]]
    if sum(fulfilled) == 0:
        return None
    return (
        "fulfilled"
        if fulfilled >= quantities and all(f >= q for f, q in zip(fulfilled, quantities, strict=True))
        else "partial"
    )


def line_payload(ln: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ln["id"], "admin_graphql_api_id": gid("LineItem", ln["id"]), "variant_id": ln["variant_id"],
        "product_id": ln["product_id"], "sku": ln["sku"], "name": ln["name"], "title": ln["title"],
        "variant_title": ln["variant_title"], "vendor": None, "quantity": ln["quantity"],
        "current_quantity": ln["current_quantity"], "fulfillable_quantity": ln["current_quantity"] - ln["fulfilled"],
        "fulfillment_status": None if not ln["fulfilled"] else ("fulfilled" if ln["fulfilled"] >= ln["current_quantity"] else "partial"),
        "fulfillment_service": "manual", "gift_card": False, "grams": 0, "requires_shipping": True,
        "taxable": ln["taxable"], "product_exists": True, "properties": [], "tax_lines": [],
        "price": ln["price"], "price_set": money_set(ln["price"]),
        "total_discount": "0.00", "total_discount_set": money_set("0.00"),
        "discount_allocations": [{"amount": ln["discount"], "amount_set": money_set(ln["discount"]),
                                  "discount_application_index": 0}] if Decimal(ln["discount"]) else [],
    }  # fmt: skip


def order_payload(shop: Shop, order: dict[str, Any]) -> dict[str, Any]:
    t = totals(order)
    customer = order["customer"]
    return {
        "id": order["id"], "admin_graphql_api_id": gid("Order", order["id"]), "name": order["name"],
        "number": order["number"] - 1000, "order_number": order["number"], "email": order["email"],
        "contact_email": order["email"], "created_at": _t(order["created_at"]), "updated_at": _t(order["updated_at"]),
        "processed_at": _t(order["processed_at"]), "cancelled_at": _t(order["cancelled_at"]),
        "cancel_reason": order["cancel_reason"], "closed_at": None, "confirmed": True, "test": False,
        "currency": "EUR", "presentment_currency": "EUR", "taxes_included": True,
        "financial_status": order["financial_status"], "fulfillment_status": fulfillment_status(shop, order),
        "current_subtotal_price": t["subtotal"], "current_subtotal_price_set": money_set(t["subtotal"]),
        "current_total_price": t["total"], "current_total_price_set": money_set(t["total"]),
        "current_total_discounts": t["discounts"], "current_total_discounts_set": money_set(t["discounts"]),
        "current_total_tax": t["tax"], "current_total_tax_set": money_set(t["tax"]),
        "subtotal_price": t["subtotal"], "total_price": t["total"], "total_discounts": order["discount_total"],
        "total_discounts_set": money_set(order["discount_total"]), "total_line_items_price": t["line_items"],
        "total_tax": t["tax"], "total_shipping_price_set": money_set(t["shipping"]),
        "tags": "", "note": None, "source_name": "web", "payment_gateway_names": ["shopify_payments"],
        "discount_codes": [{"code": order["discount_code"], "amount": order["discount_total"], "type": "fixed_amount"}]
        if order["discount_code"] else [],
        "discount_applications": [{"target_type": "line_item", "type": "discount_code", "value": order["discount_total"],
                                   "value_type": "fixed_amount", "allocation_method": "across",
                                   "target_selection": "all", "code": order["discount_code"]}]
        if order["discount_code"] else [],
        "shipping_lines": [{"id": s["id"], "title": s["title"], "code": s["code"], "source": "shopify",
                            "price": s["price"], "price_set": money_set(s["price"]),
                            "discounted_price": s["price"], "discounted_price_set": money_set(s["price"]),
                            "discount_allocations": [], "tax_lines": []} for s in order["shipping_lines"]],
        "line_items": [line_payload(ln) for ln in order["lines"]],
        "shipping_address": None if order["shipping_address"] is None else {
            **order["shipping_address"], "name": f"{customer.get('first_name', '')} {customer.get('last_name', '')}".strip(),
            "country": "France", "province": None, "company": None},
        "billing_address": None,
        "customer": {"id": customer["id"], "admin_graphql_api_id": gid("Customer", customer["id"]),
                     "email": customer.get("email"), "first_name": customer.get("first_name"),
                     "last_name": customer.get("last_name"), "phone": customer.get("phone"), "currency": "EUR"},
        "location_id": order["pickup_location_id"],
        "fulfillments": [], "refunds": [],
    }  # fmt: skip


def refund_payload(shop: Shop, refund: dict[str, Any]) -> dict[str, Any]:
    order = shop.state["orders"][str(refund["order_id"])]
    lines = {ln["id"]: ln for ln in order["lines"]}
    return {
        "id": refund["id"], "admin_graphql_api_id": gid("Refund", refund["id"]), "order_id": order["id"],
        "created_at": _t(refund["created_at"]), "processed_at": _t(refund["created_at"]), "note": refund["note"],
        "restock": any(r["restock_type"] != "no_restock" for r in refund["lines"]), "user_id": None,
        "refund_line_items": [{
            "id": r["id"], "line_item_id": r["line_id"], "location_id": r["location_id"], "quantity": r["quantity"],
            "restock_type": r["restock_type"], "subtotal": r["subtotal"], "subtotal_set": money_set(r["subtotal"]),
            "total_tax": "0.00", "total_tax_set": money_set("0.00"), "line_item": line_payload(lines[r["line_id"]])}
            for r in refund["lines"]],
        "transactions": [{"id": refund["id"] + 1, "admin_graphql_api_id": gid("OrderTransaction", refund["id"] + 1),
                          "amount": refund["amount"], "currency": "EUR", "kind": "refund", "status": "success",
                          "gateway": "shopify_payments", "order_id": order["id"], "parent_id": None,
                          "created_at": _t(refund["created_at"])}],
        "order_adjustments": [], "duties": [],
    }  # fmt: skip


def cancel(shop: Shop, order: dict[str, Any], *, reason: str, restock: bool, refund: bool) -> None:
    if order["cancelled_at"]:
        raise ShopError(f"order {order['name']} is already cancelled")
    if any(ln["fulfilled"] for ln in order["lines"]):
        raise ShopError(f"order {order['name']} has fulfilled items and cannot be cancelled")
    for ln in order["lines"]:
        if restock and ln["current_quantity"]:
            shop.level_change(
                ln["item_id"],
                ln["location_id"],
                available=ln["current_quantity"],
                committed=-ln["current_quantity"],
            )
        elif ln["current_quantity"]:
            shop.level_change(
                ln["item_id"],
                ln["location_id"],
                committed=-ln["current_quantity"],
                on_hand=-ln["current_quantity"],
            )
        ln["current_quantity"] = 0
    for fo_id in order["fulfillment_order_ids"]:
        shop.state["fulfillment_orders"][str(fo_id)]["status"] = "CLOSED"
    order["cancelled_at"] = order["updated_at"] = shop.now_z()
    order["cancel_reason"] = reason.lower()
    if refund:
        order["financial_status"] = "refunded"


def refund_create(
    shop: Shop,
    order: dict[str, Any],
    rows: list[dict[str, Any]],
    *,
    note: str | None = None,
    shipping: bool = False,
) -> dict[str, Any]:
    lines = {ln["id"]: ln for ln in order["lines"]}
    made = []
    amount = Decimal(0)
    for row in rows:
        ln = lines.get(row["line_id"])
        if ln is None:
            raise ShopError(f"no line item {row['line_id']} in {order['name']}")
        quantity = int(row["quantity"])
        refundable = (
            ln["current_quantity"]
            if row["restock_type"] == "cancel"
            else ln["fulfilled"] or ln["current_quantity"]
        )
        if quantity <= 0 or quantity > refundable:
            raise ShopError(f"cannot refund {quantity} of line {ln['id']} ({refundable} refundable)")
        location_id = row.get("location_id") or ln["location_id"]
        restock_type = row["restock_type"]
        if restock_type == "cancel" or (restock_type != "return" and not ln["fulfilled"]):
            ln["current_quantity"] -= quantity
            _fulfillment_orders_take(shop, order, ln["id"], quantity)
            if restock_type != "no_restock":
                shop.level_change(ln["item_id"], location_id, available=quantity, committed=-quantity)
        elif restock_type in ("return", "legacy_restock"):
            shop.level_change(ln["item_id"], location_id, available=quantity, on_hand=quantity)
        unit = Decimal(ln["price"]) - Decimal(ln["discount"]) / ln["quantity"]
        subtotal = (unit * quantity).quantize(CENT)
        amount += subtotal
        made.append(
            {
                "id": shop.next_id(),
                "line_id": ln["id"],
                "quantity": quantity,
                "restock_type": restock_type,
                "location_id": location_id,
                "subtotal": money(subtotal),
            }
        )
    if shipping:
        amount += sum((Decimal(s["price"]) for s in order["shipping_lines"]), Decimal(0))
    refund = {
        "id": shop.next_id(),
        "order_id": order["id"],
        "created_at": shop.now_z(),
        "note": note,
        "lines": made,
        "amount": money(amount),
    }
    shop.next_id()  # the transaction's id
    shop.state["refunds"][str(refund["id"])] = refund
    order["refund_ids"].append(refund["id"])
    order["financial_status"] = (
        "refunded" if all(ln["current_quantity"] == 0 for ln in order["lines"]) else "partially_refunded"
    )
    order["updated_at"] = shop.now_z()
    return refund


def _fulfillment_orders_take(shop: Shop, order: dict[str, Any], line_id: int, quantity: int) -> None:
    """Units cancelled off a line leave its open fulfillment orders (in their order); a fulfillment
    order with nothing left to fulfil closes."""
    for fo_id in order["fulfillment_order_ids"]:
        fo = shop.state["fulfillment_orders"][str(fo_id)]
        if fo["status"] in ("CLOSED", "CANCELLED"):
            continue
        for fl in fo["lines"]:
            if fl["line_id"] == line_id and quantity and fl["remaining"]:
                taken = min(quantity, fl["remaining"])
                fl["remaining"] -= taken
                quantity -= taken
                fo["updated_at"] = shop.now_z()
        if all(fl["remaining"] == 0 for fl in fo["lines"]):
            fo["status"] = "CLOSED"


def tables(views: Views) -> dict[str, Any]:
    ov = OrderViews(views)
    return {
        "Order": ("orders", ov.order),
        "FulfillmentOrder": ("fulfillment_orders", ov.fulfillment_order),
        "Refund": ("refunds", ov.refund),
        "Fulfillment": ("fulfillments", ov.fulfillment),
    }


def bag(amount: str) -> dict[str, Any]:
    m = {"amount": amount, "currencyCode": "EUR"}
    return {"shopMoney": m, "presentmentMoney": m}


class OrderViews:
    def __init__(self, views: Views) -> None:
        self.views = views
        self.shop = views.shop
        self.state = views.state

    def line(self, ln: dict[str, Any]) -> dict[str, Any]:
        unit_discount = (Decimal(ln["discount"]) / ln["quantity"]).quantize(CENT)
        variant = self.state["variants"].get(str(ln["variant_id"]))
        return {
            "__typename": "LineItem",
            "id": gid("LineItem", ln["id"]),
            "sku": ln["sku"],
            "name": ln["name"],
            "quantity": ln["quantity"],
            "currentQuantity": ln["current_quantity"],
            "variant": self.views.variant(variant) if variant else None,
            "originalUnitPriceSet": bag(ln["price"]),
            "discountedUnitPriceAfterAllDiscountsSet": bag(money(Decimal(ln["price"]) - unit_discount)),
            "totalDiscountSet": bag(ln["discount"]),
            "discountAllocations": [{"allocatedAmountSet": bag(ln["discount"])}]
            if Decimal(ln["discount"])
            else [],
        }

    def order(self, o: dict[str, Any]) -> dict[str, Any]:
        t = totals(o)
        fstatus = fulfillment_status(self.shop, o)
        fos = [self.state["fulfillment_orders"][str(i)] for i in o["fulfillment_order_ids"]]
        display = ("FULFILLED" if fstatus == "fulfilled" else "PARTIALLY_FULFILLED" if fstatus == "partial"
                   else "READY_FOR_PICKUP" if any(f["prepared"] for f in fos) else "UNFULFILLED")  # fmt: skip
        c, a = o["customer"], o["shipping_address"]
        return {
            "__typename": "Order", "id": gid("Order", o["id"]), "legacyResourceId": str(o["id"]), "name": o["name"],
            "email": o["email"], "createdAt": o["created_at"], "updatedAt": o["updated_at"],
            "processedAt": o["processed_at"], "cancelledAt": o["cancelled_at"],
            "cancelReason": o["cancel_reason"].upper() if o["cancel_reason"] else None, "currencyCode": "EUR",
            "displayFinancialStatus": o["financial_status"].upper(), "displayFulfillmentStatus": display,
            "currentTotalPriceSet": bag(t["total"]), "totalDiscountsSet": bag(o["discount_total"]),
            "totalShippingPriceSet": bag(t["shipping"]),
            "customer": {"id": gid("Customer", c["id"]), "email": c.get("email"), "firstName": c.get("first_name"),
                         "lastName": c.get("last_name")},
            "shippingAddress": None if a is None else {
                "name": f"{a.get('first_name') or ''} {a.get('last_name') or ''}".strip(), "firstName": a.get("first_name"),
                "lastName": a.get("last_name"), "address1": a.get("address1"), "address2": a.get("address2"),
                "city": a.get("city"), "zip": a.get("zip"), "countryCodeV2": a.get("country_code"), "phone": a.get("phone")},
            "shippingLines": lambda _i, first=None, after=None: connection(o["shipping_lines"], lambda s: {
                "title": s["title"], "code": s["code"], "originalPriceSet": bag(s["price"]),
                "discountedPriceSet": bag(s["price"])}, first, after),
            "lineItems": lambda _i, first=None, after=None: connection(o["lines"], self.line, first, after),
            "fulfillmentOrders": lambda _i, first=None, after=None: connection(fos, self.fulfillment_order, first, after),
            "fulfillments": lambda _i, first=None: [self.fulfillment(self.state["fulfillments"][str(i)])
                                                    for i in o["fulfillment_ids"]][:first],
            "refunds": lambda _i, first=None: [self.refund(self.state["refunds"][str(i)]) for i in o["refund_ids"]][:first],
            "transactions": lambda _i, first=None: [],
        }  # fmt: skip

    def fulfillment_order(self, fo: dict[str, Any]) -> dict[str, Any]:
        order = self.state["orders"][str(fo["order_id"])]
        lines = {ln["id"]: ln for ln in order["lines"]}
        location = self.state["locations"][str(fo["location_id"])]
        return {
            "__typename": "FulfillmentOrder", "id": gid("FulfillmentOrder", fo["id"]), "status": fo["status"],
            "createdAt": fo["created_at"], "updatedAt": fo["updated_at"], "orderId": gid("Order", order["id"]),
            "assignedLocation": {"name": location["name"], "location": self.views.location(location)},
            "deliveryMethod": {"methodType": fo["method"]},
            "lineItems": lambda _i, first=None, after=None: connection(fo["lines"], lambda fl: {
                "id": gid("FulfillmentOrderLineItem", fl["id"]), "sku": lines[fl["line_id"]]["sku"],
                "totalQuantity": fl["total"], "remainingQuantity": fl["remaining"],
                "lineItem": self.line(lines[fl["line_id"]])}, first, after),
        }  # fmt: skip

    def fulfillment(self, f: dict[str, Any]) -> dict[str, Any]:
        return {
            "__typename": "Fulfillment",
            "id": gid("Fulfillment", f["id"]),
            "status": "SUCCESS",
            "createdAt": f["created_at"],
            "trackingInfo": lambda _i, first=None: f["tracking"][:first],
            "location": self.views.location(self.state["locations"][str(f["location_id"])]),
        }

    def refund(self, r: dict[str, Any]) -> dict[str, Any]:
        order = self.state["orders"][str(r["order_id"])]
        lines = {ln["id"]: ln for ln in order["lines"]}
        return {
            "__typename": "Refund",
            "id": gid("Refund", r["id"]),
            "legacyResourceId": str(r["id"]),
            "createdAt": r["created_at"],
            "note": r["note"],
            "totalRefundedSet": bag(r["amount"]),
            "order": lambda _i: self.order(order),
            "refundLineItems": lambda _i, first=None, after=None: connection(
                r["lines"],
                lambda rl: {
                    "lineItem": self.line(lines[rl["line_id"]]),
                    "quantity": rl["quantity"],
                    "restockType": rl["restock_type"].upper(),
                    "restocked": rl["restock_type"] != "no_restock",
                    "location": self.views.location(self.state["locations"][str(rl["location_id"])]),
                },
                first,
                after,
            ),
        }

    def resolvers(self, root: Any, first_of: Any) -> dict[str, Any]:
        from integration.shopify.simulator.resolvers import matches

        shop, state = self.shop, self.state

        def orders(_i: Any, first=None, after=None, query=None, sortKey=None, reverse=False) -> Any:
            rows = [
                o
                for o in state["orders"].values()
                if matches(
                    o,
                    query,
                    {
                        "updated_at": lambda o: o["updated_at"],
                        "created_at": lambda o: o["created_at"],
                        "name": lambda o: o["name"],
                        "financial_status": lambda o: o["financial_status"],
                    },
                )
            ]
            key = {
                "UPDATED_AT": "updated_at",
                "CREATED_AT": "created_at",
                "PROCESSED_AT": "processed_at",
            }.get(sortKey or "ID", "id")
            rows.sort(key=lambda o: (o[key], o["id"]), reverse=bool(reverse))
            return connection(rows, self.order, first_of(first), after)

        def find(table: str, kind: str, value: str) -> dict[str, Any] | None:
            parsed = gid_parse(value, kind)
            return state[table].get(str(parsed[1])) if parsed else None  # type: ignore[no-any-return]

        def fulfillment_create(_i: Any, fulfillment: dict[str, Any], message: str | None = None) -> Any:
            groups = fulfillment["lineItemsByFulfillmentOrder"]
            plan: list[tuple[dict[str, Any], list[tuple[dict[str, Any], int]]]] = []
            for index, group in enumerate(groups):
                fo = find("fulfillment_orders", "FulfillmentOrder", group["fulfillmentOrderId"])
                if fo is None or fo["status"] in ("CLOSED", "CANCELLED"):
                    return {
                        "fulfillment": None,
                        "userErrors": [
                            {
                                "field": ["fulfillment", "lineItemsByFulfillmentOrder", str(index)],
                                "message": "Fulfillment order does not exist."
                                if fo is None
                                else "Fulfillment order is not fulfillable.",
                            }
                        ],
                    }
                wanted = group.get("fulfillmentOrderLineItems")
                by_id = {gid("FulfillmentOrderLineItem", fl["id"]): fl for fl in fo["lines"]}
                rows = [(fl, fl["remaining"]) for fl in fo["lines"] if fl["remaining"]] if not wanted else []
                for w in wanted or []:
                    fl = by_id.get(w["id"])
                    if fl is None or w["quantity"] > fl["remaining"] or w["quantity"] <= 0:
                        return {
                            "fulfillment": None,
                            "userErrors": [
                                {
                                    "field": ["fulfillment"],
                                    "message": "Invalid fulfillment order line item quantity requested.",
                                }
                            ],
                        }
                    rows.append((fl, w["quantity"]))
                if plan and fo["location_id"] != plan[0][0]["location_id"]:
                    return {
                        "fulfillment": None,
                        "userErrors": [
                            {
                                "field": ["fulfillment", "lineItemsByFulfillmentOrder", str(index)],
                                "message": "All fulfillment orders must be assigned to the same location.",
                            }
                        ],
                    }
                plan.append((fo, rows))
            if not plan or plan[0][0]["order_id"] is None:
                return {
                    "fulfillment": None,
                    "userErrors": [{"field": ["fulfillment"], "message": "No line items."}],
                }
            order = state["orders"][str(plan[0][0]["order_id"])]
            lines = {ln["id"]: ln for ln in order["lines"]}
            for fo, rows in plan:
                for fl, quantity in rows:
                    fl["remaining"] -= quantity
                    ln = lines[fl["line_id"]]
                    ln["fulfilled"] += quantity
                    shop.level_change(
                        ln["item_id"], fo["location_id"], committed=-quantity, on_hand=-quantity
                    )
                fo["status"] = "CLOSED" if all(fl["remaining"] == 0 for fl in fo["lines"]) else "IN_PROGRESS"
                fo["updated_at"] = shop.now_z()
            tracking_in = fulfillment.get("trackingInfo") or {}
            numbers = tracking_in.get("numbers") or (
                [tracking_in["number"]] if tracking_in.get("number") else []
            )
            tracking = [
                {"company": tracking_in.get("company"), "number": n, "url": tracking_in.get("url")}
                for n in numbers
            ]
            f = {
                "id": shop.next_id(),
                "order_id": order["id"],
                "location_id": plan[0][0]["location_id"],
                "created_at": shop.now_z(),
                "tracking": tracking,
            }
            state["fulfillments"][str(f["id"])] = f
            order["fulfillment_ids"].append(f["id"])
            order["updated_at"] = shop.now_z()
            root.outbox.append(("orders/updated", order_payload(shop, order)))
            if fulfillment_status(shop, order) == "fulfilled":
                root.outbox.append(("orders/fulfilled", order_payload(shop, order)))
            return {"fulfillment": self.fulfillment(f), "userErrors": []}

        def prepared_for_pickup(_i: Any, input: dict[str, Any]) -> Any:
            for index, group in enumerate(input["lineItemsByFulfillmentOrder"]):
                fo = find("fulfillment_orders", "FulfillmentOrder", group["fulfillmentOrderId"])
                if fo is None or fo["method"] != "PICK_UP" or fo["status"] in ("CLOSED", "CANCELLED"):
                    return {
                        "userErrors": [
                            {
                                "field": ["input", "lineItemsByFulfillmentOrder", str(index)],
                                "code": "FULFILLMENT_ORDER_INVALID",
                                "message": "Fulfillment order is not a local pickup order that can be prepared.",
                            }
                        ]
                    }
                fo["prepared"] = True
                fo["status"] = "IN_PROGRESS"
                order = state["orders"][str(fo["order_id"])]
                order["updated_at"] = fo["updated_at"] = shop.now_z()
                root.outbox.append(("orders/updated", order_payload(shop, order)))
            return {"userErrors": []}

        def order_cancel(
            _i: Any,
            orderId: str,
            reason: str,
            restock: bool,
            refund=None,
            refundMethod=None,
            notifyCustomer=None,
            staffNote=None,
        ) -> Any:
            order = find("orders", "Order", orderId)
            if order is None:
                return {
                    "job": None,
                    "userErrors": [],
                    "orderCancelUserErrors": [
                        {"field": ["orderId"], "code": "NOT_FOUND", "message": "Order not found."}
                    ],
                }
            try:
                wants_refund = bool(refund) or bool((refundMethod or {}).get("originalPaymentMethodsRefund"))
                cancel(shop, order, reason=reason, restock=restock, refund=wants_refund)
            except ShopError as error:
                return {
                    "job": None,
                    "userErrors": [],
                    "orderCancelUserErrors": [
                        {"field": ["orderId"], "code": "INVALID", "message": str(error)}
                    ],
                }
            root.outbox.append(("orders/cancelled", order_payload(shop, order)))
            return {
                "job": {"id": gid("Job", shop.next_id()), "done": True},
                "userErrors": [],
                "orderCancelUserErrors": [],
            }

        def refund_create_(_i: Any, input: dict[str, Any]) -> Any:
            order = find("orders", "Order", input["orderId"])
            if order is None:
                return {
                    "order": None,
                    "refund": None,
                    "userErrors": [{"field": ["orderId"], "message": "Order does not exist"}],
                }
            rows = []
            for r in input.get("refundLineItems") or []:
                parsed = gid_parse(r["lineItemId"], "LineItem")
                location = gid_parse(r["locationId"], "Location") if r.get("locationId") else None
                rows.append(
                    {
                        "line_id": parsed[1] if parsed else -1,
                        "quantity": r["quantity"],
                        "restock_type": (r.get("restockType") or "NO_RESTOCK").lower(),
                        "location_id": location[1] if location else None,
                    }
                )
            try:
                made = refund_create(
                    shop,
                    order,
                    rows,
                    note=input.get("note"),
                    shipping=bool((input.get("shipping") or {}).get("fullRefund")),
                )
            except ShopError as error:
                return {
                    "order": None,
                    "refund": None,
                    "userErrors": [{"field": ["refundLineItems"], "message": str(error)}],
                }
            root.outbox.append(("refunds/create", refund_payload(shop, made)))
            return {"order": self.order(order), "refund": self.refund(made), "userErrors": []}

        def by(kind: str, table: str, view: Any) -> Any:
            return lambda _i, id: (lambda rec: view(rec) if rec else None)(find(table, kind, id))

        return {
            "orders": orders, "order": by("Order", "orders", self.order),
            "fulfillmentOrder": by("FulfillmentOrder", "fulfillment_orders", self.fulfillment_order),
            "fulfillmentCreate": fulfillment_create,
            "fulfillmentOrderLineItemsPreparedForPickup": prepared_for_pickup,
            "orderCancel": order_cancel, "refundCreate": refund_create_,
        }  # fmt: skip
