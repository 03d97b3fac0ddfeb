"""The catalogue in Shopify: which products exist there, the AS400's fields we push, Shopify's we take.

Which products. Those a storefront client may sell (``inventory.selectors.sellable_products``:
active, mapped, category rolled out), pilot categories only when the storefront client named
``settings.SHOPIFY_CLIENT_NAME`` may see pilot (``StorefrontClient.can_see_pilot``), exactly as for
the headless store. A product that stops being sellable is unpublished, never deleted: status
``ARCHIVED`` when the AS400 delisted it, ``DRAFT`` otherwise (suspended, category taken back,
unmapped), so that it comes back with its Shopify content when it sells again.

Who writes what (``integration.core.ownership``). We write the AS400's fields only: SKU
(the mapping's), barcode (``ean``), price, taxable (``vat_code`` 1-4), status. An initial title
(the storefront title, else the AS400 description) is sent when a product is created, never
after: every later ``productSet`` carries no Shopify-owned field, which :func:`_as400_input`
checks against the declaration. Shopify's fields (title, description, images, tags) come back by
the ``products/update`` webhook into the product's storefront content (``product_content_update``,
the same service as the storefront API's). An AS400-owned field changed in Shopify is recorded as
an :class:`OwnershipViolation` and the product is pushed again, which puts ours back and marks the
violation fixed.

How. The first sync of many products (at least :data:`BULK_FROM` to create) is one bulk
operation: a JSONL file of ``productSet`` variables uploaded to a staged target, run by
``bulkOperationRunMutation``, polled with ``node(id)`` until it is ``COMPLETED``, and its result
JSONL read for the product, variant and inventory item ids. Later changes (a product whose
AS400 fields' hash differs from what was pushed) go as ``productSet`` calls, a small batch per
run, paced by the client.

Never created twice. Shopify does not refuse a second product with the same SKU, so a creation
whose answer is lost (the worker killed, the call timed out) must not simply be sent again. Its
link is committed as ``creating``, with the handle it is created under (:func:`shopify_handle`,
from the SKU), before the call; the call is an upsert by that handle. A link left so is looked
up at Shopify by the next run (:func:`_lookup`: by handle, then by SKU) and the product found is
adopted and pushed by id. The first sync's bulk operation is recorded before it is waited for
(``integration.shopify.models.BulkOperation``: what it covers, in line order, with the hash of
what each line sends; the plan makes none of them again while it is unfinished); a run waits
for it at most ``SHOPIFY_BULK_WAIT_IN_TASK_SECONDS``, and the next run (the schedule's, or the one
its ``bulk_operations/finish`` queues) waits on and applies it instead of planning again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integration.core.ownership import System, check_product_write
from integration.models import StorefrontClient
from integration.shopify.bulk import (
    bulk_lines,
    bulk_operation_advance,
    bulk_operation_applied,
    bulk_operation_claim,
    bulk_operation_create,
)
from integration.shopify.models import BulkOperation
from inventory.labels import product_sku
from inventory.models import Product
from inventory.selectors import sellable_products
from inventory.services import product_content_update
from shopify_channel.models import OwnershipViolation, ShopifyLocation, ShopifyProduct
from shopify_channel.stock import Client, stock_mark_dirty

logger = logging.getLogger(__name__)

BULK_FROM = 200  # products to create from which the first sync is one bulk operation
SMALL_BATCH = 50  # productSet calls per catalogue run for later changes
TAXABLE_VAT_CODES = {"1", "2", "3", "4"}

#: Shopify's field → ours, for the AS400-owned fields we push (and watch).
AS400_FIELDS = {"sku": "sku", "barcode": "ean", "price": "price", "taxable": "vat_code", "status": "status"}
#: Shopify's field → ours, for the storefront-owned fields Shopify owns.
SHOPIFY_FIELDS = {"title": "title", "body_html": "long_description", "images": "images", "tags": "attributes"}


def shopify_include_pilot() -> bool:
    """Whether Shopify sells pilot categories: its storefront client's ``can_see_pilot``."""
    return bool(
        StorefrontClient.objects.filter(name=settings.SHOPIFY_CLIENT_NAME)
        .values_list("can_see_pilot", flat=True)
        .first()
    )


def shopify_sellable_ids() -> set[int]:
    return set(
        Product.objects.filter(sellable_products(include_pilot=shopify_include_pilot())).values_list(
            "pk", flat=True
        )
    )


# --- What we push --------------------------------------------------------------------------------


def _status(product: Product, sellable: bool) -> str:
    if sellable:
        return "ACTIVE"
    return "ARCHIVED" if product.status == Product.Status.DELISTED else "DRAFT"


def as400_values(product: Product, *, sellable: bool) -> dict[str, Any]:
    """The AS400-owned fields as Shopify names them, as we would push them now."""
    return {
        "sku": product_sku(product),
        "barcode": product.ean,
        "price": f"{Decimal(product.price):.2f}",
        "taxable": product.vat_code in TAXABLE_VAT_CODES,
        "status": _status(product, sellable),
    }


def values_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def shopify_handle(sku: str) -> str:
    """The handle a product is created under in Shopify, from its SKU (``ab-123`` for ``AB-123``;
    followed by a hash of the SKU when the slug loses some of it, so two SKUs never share one).

    Shopify keeps a handle unique per shop (validated when given, since 2025-01) where it does not
    keep a SKU unique: creating under it is an upsert (``productSet`` identified by handle), so a
    creation sent again after its answer was lost finds the product it made instead of a second one.
    Like the title, it is written once, at creation; after that the product is known by its id."""
    slug = re.sub(r"[^a-z0-9]+", "-", sku.lower()).strip("-") or "product"
    if slug != sku.lower():
        slug = f"{slug}-{hashlib.sha256(sku.encode()).hexdigest()[:8]}"
    return slug[:255]


def _variables(
    values: dict[str, Any],
    link: ShopifyProduct | None,
    *,
    title: str | None,
    locations: list[str] | None = None,
    handle: str | None = None,
) -> dict[str, Any]:
    """``productSet``'s variables: the input, and the product's identifier: its id when it exists,
    else the handle it is created under (an upsert: a second creation finds the first)."""
    data = _as400_input(values, link, title=title, locations=locations, handle=handle)
    if "id" in data:
        return {"input": data, "identifier": {"id": data["id"]}}
    if "handle" in data:
        return {"input": data, "identifier": {"handle": data["handle"]}}
    return {"input": data}


def _as400_input(
    values: dict[str, Any],
    link: ShopifyProduct | None,
    *,
    title: str | None,
    locations: list[str] | None = None,
    handle: str | None = None,
) -> dict[str, Any]:
    """``productSet``'s input: the AS400's fields; a title and a handle only when creating (stocked
    at ``locations``, the mapped Shopify locations' gids, read here when not given)."""
    variant: dict[str, Any] = {
        "optionValues": [{"optionName": "Title", "name": "Default Title"}],
        "sku": values["sku"],
        # 2026-10: barcodes (a set, replaced whole; no type, so the AS400's EAN is stored as it is).
        "barcodes": [{"value": values["barcode"]}] if values["barcode"] else [],
        "price": values["price"],
        "taxable": values["taxable"],
        "inventoryItem": {"tracked": True},
    }
    data: dict[str, Any] = {
        "status": values["status"],
        "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
        "variants": [variant],
    }
    if link is not None and link.shopify_product_id:
        data["id"] = link.shopify_product_id
        if link.shopify_variant_id:
            variant["id"] = link.shopify_variant_id
    else:
        if title is not None:
            data["title"] = title  # the only Shopify-owned fields we ever write: once, at creation
        if handle:
            data["handle"] = handle
        # Stocked at every Shopify location from the start (0), so that the stock push can set it.
        if locations is None:
            locations = _mapped_locations()
        variant["inventoryQuantities"] = [
            {"locationId": gid, "name": "available", "quantity": 0} for gid in locations
        ]
    _check_ownership(data, creating="id" not in data)
    return data


#: productSet's input fields → the product field of ours they write (the variant's are the AS400's).
INPUT_FIELDS = {
    "title": "title",
    "descriptionHtml": "long_description",
    "files": "images",
    "tags": "attributes",
    "status": "status",
}
VARIANT_FIELDS = {"barcodes": "ean", "price": "price", "taxable": "vat_code"}  # sku: the mapping's


def _check_ownership(data: dict[str, Any], *, creating: bool) -> None:
    """Refuse an input that writes a field the AS400 does not own (the title, once, at creation)."""
    written = [INPUT_FIELDS[k] for k in data if k in INPUT_FIELDS and not (creating and k == "title")]
    for variant in data.get("variants") or []:
        written += [VARIANT_FIELDS[k] for k in variant if k in VARIANT_FIELDS]
    check_product_write(System.AS400, written)


def _mapped_locations() -> list[str]:
    return list(ShopifyLocation.objects.values_list("shopify_location_id", flat=True))


def _initial_title(product: Product) -> str:
    return product.title or product.as400_description or product.item_number


@dataclass
class CataloguePlan:
    create: list[Product] = field(default_factory=list)
    update: list[tuple[Product, ShopifyProduct]] = field(default_factory=list)
    #: Links whose creation was sent and never answered (their worker died, the call timed out, it
    #: failed): Shopify may hold the product; looked up before anything is created again.
    resume: list[tuple[Product, ShopifyProduct]] = field(default_factory=list)
    values: dict[int, dict[str, Any]] = field(default_factory=dict)

    def sellable(self, product: Product) -> bool:
        return bool(self.values[product.pk]["status"] == "ACTIVE")


BULK_PURPOSE = "catalogue"


def catalogue_plan() -> CataloguePlan:
    """What must be pushed: sellable products not in Shopify yet; creations to resume (but not those
    an unfinished bulk operation covers: it tells); products whose pushed values differ."""
    sellable = shopify_sellable_ids()
    links = {s.product_id: s for s in ShopifyProduct.objects.all()}
    open_bulks: set[int] = set()
    covered: set[int] = set()  # products an unfinished bulk operation creates (their links come with its result)
    for pk, covers in BulkOperation.objects.filter(
        purpose=BULK_PURPOSE, state__in=[BulkOperation.State.PREPARING, BulkOperation.State.RUNNING]
    ).values_list("pk", "covers"):
        open_bulks.add(pk)
        covered.update(int(line[0]) for line in covers)
    plan = CataloguePlan()
    wanted = sellable | set(links)
    for chunk_start in range(0, len(wanted), 5000):
        ids = sorted(wanted)[chunk_start : chunk_start + 5000]
        for product in Product.objects.filter(pk__in=ids).select_related("mapping").order_by("pk"):
            link = links.get(product.pk)
            values = as400_values(product, sellable=product.pk in sellable)
            plan.values[product.pk] = values
            if link is None:
                if product.pk in sellable and product.pk not in covered:
                    plan.create.append(product)
            elif not link.shopify_product_id:
                if link.bulk_id not in open_bulks:
                    plan.resume.append((product, link))
            elif link.pushed_hash != values_hash(values) or link.state == ShopifyProduct.State.FAILED:
                plan.update.append((product, link))
    return plan


# --- Pushing -------------------------------------------------------------------------------------


@dataclass
class CatalogueReport:
    created: int = 0
    updated: int = 0
    unpublished: int = 0
    failed: int = 0
    calls: int = 0
    bulk: bool = False
    bulk_running: bool = False  # a bulk operation still runs at Shopify: a later run applies it
    adopted: int = 0  # creations whose answer was lost, found at Shopify and linked
    errors: list[str] = field(default_factory=list)

    def note_call(self) -> None:
        self.calls += 1


def _data(answer: Any) -> dict[str, Any]:
    data = getattr(answer, "data", None)
    if data is None and isinstance(answer, dict):
        data = answer.get("data")
    return data or {}


def _ids(product_data: dict[str, Any] | None) -> tuple[str, str, str]:
    """(product gid, variant gid, inventory item gid) of a productSet answer's product."""
    if not product_data:
        return "", "", ""
    variants = product_data.get("variants") or {}
    nodes = variants.get("nodes") or [e.get("node") for e in variants.get("edges") or []]
    variant = nodes[0] if nodes else {}
    return (
        product_data.get("id") or "",
        variant.get("id") or "",
        (variant.get("inventoryItem") or {}).get("id") or "",
    )


def _apply(
    link: ShopifyProduct,
    product: Product,
    values: dict[str, Any],
    result: dict[str, Any] | None,
    report: CatalogueReport,
    now: datetime,
    *,
    created: bool,
    pushed_hash: str | None = None,
) -> bool | None:
    """A productSet's answer for one product onto its link (not saved): its ids and hash, or its
    failure. None when it failed; else whether the product has just been published (stock to push)."""
    result = result or {}
    errors = result.get("userErrors") or []
    product_id, variant_id, item_id = _ids(result.get("product"))
    if errors or not product_id:
        link.state = ShopifyProduct.State.FAILED
        link.last_error = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors)[:2000] or (
            "no product in Shopify's answer"
        )
        report.failed += 1
        report.errors.append(f"{product.item_number}: {link.last_error}")
        return None
    was_published = link.state == ShopifyProduct.State.PUSHED and bool(link.inventory_item_id)
    link.shopify_product_id = product_id
    link.shopify_variant_id = variant_id or link.shopify_variant_id
    link.inventory_item_id = item_id or link.inventory_item_id
    link.pushed_hash = pushed_hash or values_hash(values)
    link.state = (
        ShopifyProduct.State.PUSHED if values["status"] == "ACTIVE" else ShopifyProduct.State.UNPUBLISHED
    )
    link.last_pushed_at, link.last_error = now, ""
    if values["status"] != "ACTIVE":
        report.unpublished += 1
    elif created:
        report.created += 1
    else:
        report.updated += 1
    return link.state == ShopifyProduct.State.PUSHED and not was_published


def _record(
    product: Product,
    values: dict[str, Any],
    result: dict[str, Any] | None,
    report: CatalogueReport,
    now: datetime,
    *,
    created: bool,
) -> None:
    """A productSet's answer for one product, saved: its link, its violations fixed, its stock."""
    with transaction.atomic():
        link, _ = ShopifyProduct.objects.get_or_create(product=product)
        published = _apply(link, product, values, result, report, now, created=created)
        if published is None:
            link.save(update_fields=["state", "last_error"])
            return
        link.save()
        OwnershipViolation.objects.filter(product=product, fixed_at__isnull=True).update(fixed_at=now)
        if published:
            codes = ShopifyLocation.objects.values_list("location_id", flat=True)
            stock_mark_dirty(
                [(product.pk, c) for c in codes], f"gid://platform/Product/{product.pk}", now=now
            )


LINK_FIELDS = [
    "shopify_product_id", "shopify_variant_id", "inventory_item_id", "pushed_hash", "state",
    "last_pushed_at", "last_error",
]  # fmt: skip


def _record_many(
    products: list[Product],
    values: dict[int, dict[str, Any]],
    results: dict[int, dict[str, Any]],
    report: CatalogueReport,
    now: datetime,
    *,
    hashes: dict[int, str] | None = None,
    operation: BulkOperation | None = None,
) -> None:
    """A bulk operation's answers (by line number, in ``products``' order), saved in batches: a
    first sync of 50,000 products recorded one by one spent minutes in its own writes. ``hashes``:
    the hash of what each line sent, when it differs from ``values`` now; new links are made with
    the handle their line created them under, and the ``operation``."""
    codes = list(ShopifyLocation.objects.values_list("location_id", flat=True))
    hashes = hashes or {}
    with transaction.atomic():  # one commit, one stock push queued for all the new products
        for start in range(0, len(products), 2000):
            chunk = products[start : start + 2000]
            links = {link.product_id: link for link in ShopifyProduct.objects.filter(product__in=chunk)}
            new: list[ShopifyProduct] = []
            known: list[ShopifyProduct] = []
            fixed: list[int] = []
            dirty: list[tuple[int, int]] = []
            for index, product in enumerate(chunk, start):
                link = links.get(product.pk) or ShopifyProduct(
                    product=product, handle=shopify_handle(values[product.pk]["sku"]), bulk=operation
                )
                published = _apply(
                    link, product, values[product.pk], results.get(index), report, now, created=True,
                    pushed_hash=hashes.get(product.pk),
                )  # fmt: skip
                (known if link.pk else new).append(link)
                if published is not None:
                    fixed.append(product.pk)
                if published:
                    dirty += [(product.pk, code) for code in codes]
            ShopifyProduct.objects.bulk_create(new)
            ShopifyProduct.objects.bulk_update(known, LINK_FIELDS)
            OwnershipViolation.objects.filter(product_id__in=fixed, fixed_at__isnull=True).update(
                fixed_at=now
            )
            if dirty:
                stock_mark_dirty(dirty, f"gid://platform/CatalogueSync/{now:%Y%m%dT%H%M%SZ}", now=now)


# --- A creation whose answer was lost --------------------------------------------------------------


def _creating_mark(product: Product, values: dict[str, Any], link: ShopifyProduct | None) -> ShopifyProduct:
    """The link marked as being created, under its handle, and committed BEFORE the productSet that
    creates it: a worker that dies (or a call that times out) after Shopify made the product leaves
    this row, and the next run looks the product up instead of making a second one."""
    if link is None:
        link = ShopifyProduct(product=product)
    link.state = ShopifyProduct.State.CREATING
    link.handle = link.handle or shopify_handle(values["sku"])
    link.save()
    return link


def _sku_term(sku: str) -> str | None:
    """``sku:'…'`` for a SKU that can go into Shopify's search syntax as it is (else no search by SKU)."""
    return f"sku:'{sku}'" if re.fullmatch(r"[A-Za-z0-9._/+-]+", sku) else None


def _lookup(client: Client, sku: str, handle: str, report: CatalogueReport) -> tuple[str, str, str] | None:
    """(product, variant, inventory item) gids of the product Shopify holds for this SKU, made by a
    creation whose answer we lost: the product under our handle, else the oldest product with a
    variant of exactly this SKU (Shopify allows several; we adopt one and create none). None: none."""
    report.calls += 1
    by_handle = _data(client.execute("product_by_handle", {"query": f"handle:'{handle}'"}))
    for node in (by_handle.get("products") or {}).get("nodes") or []:
        if node.get("handle") != handle:
            continue
        variants = (node.get("variants") or {}).get("nodes") or []
        variant = next((v for v in variants if v.get("sku") == sku), variants[0] if variants else {})
        return node["id"], variant.get("id") or "", (variant.get("inventoryItem") or {}).get("id") or ""
    term = _sku_term(sku)
    if term is None:
        return None
    report.calls += 1
    found = _data(client.execute("product_variants_by_sku", {"query": term}))
    variants = [v for v in (found.get("productVariants") or {}).get("nodes") or [] if v.get("sku") == sku]
    if not variants:
        return None

    def age(v: dict[str, Any]) -> tuple[str, int]:
        product_id = str(v["product"]["id"])
        return str(v["product"].get("createdAt") or ""), int(product_id.rsplit("/", 1)[-1] or 0)

    variant = min(variants, key=age)
    return variant["product"]["id"], variant["id"], (variant.get("inventoryItem") or {}).get("id") or ""


def _adopt(link: ShopifyProduct, ids: tuple[str, str, str], report: CatalogueReport) -> None:
    """The product Shopify made for a lost creation, linked (its fields are pushed next, by id)."""
    link.shopify_product_id, link.shopify_variant_id, link.inventory_item_id = ids
    link.save(update_fields=["shopify_product_id", "shopify_variant_id", "inventory_item_id"])
    report.adopted += 1
    logger.info("product %s: found at Shopify as %s (a creation whose answer was lost)", link.product_id, ids[0])


# --- Pushing, small batches ---------------------------------------------------------------------------


def catalogue_push(
    *,
    client: Client | None = None,
    now: datetime | None = None,
    bulk_from: int = BULK_FROM,
    small_batch: int | None = SMALL_BATCH,
    upload: Callable[[str, list[dict[str, str]], bytes], None] | None = None,
    wait_seconds: float | None = None,
) -> CatalogueReport:
    """Push what :func:`catalogue_plan` finds; many creations at once as one bulk operation.

    A first sync's bulk operation still running at Shopify (started by an earlier run, or by this
    one and not finished within ``wait_seconds``) is waited on and applied first; while it runs,
    nothing else is pushed (``report.bulk_running``)."""
    now = now or timezone.now()
    if client is None:
        from integration.shopify.client import shopify_client

        client = shopify_client()
    report = CatalogueReport()
    pending = bulk_operation_claim(purpose=BULK_PURPOSE, now=now)
    if pending is False:  # another run waits on it
        report.bulk = report.bulk_running = True
        return report
    if pending is not None:
        report.bulk = True
        advanced = catalogue_bulk_advance(
            pending, client=client, report=report, now=now, upload=upload, wait_seconds=wait_seconds
        )
        if not advanced:
            return report
    plan = catalogue_plan()
    creations = [*plan.create, *(p for p, _ in plan.resume if plan.sellable(p))]
    if len(creations) >= bulk_from:
        report.bulk = True
        links = {link.product_id: link for _, link in plan.resume}
        operation = catalogue_bulk_start(creations, plan.values, links, now=now)
        advanced = catalogue_bulk_advance(
            operation, client=client, report=report, now=now, upload=upload, wait_seconds=wait_seconds
        )
        if not advanced:
            return report
        plan = catalogue_plan()
    todo: list[tuple[Product, ShopifyProduct | None]] = [
        *plan.resume, *((p, None) for p in plan.create), *plan.update
    ]  # fmt: skip
    if small_batch is not None:
        todo = todo[:small_batch]
    for product, link in todo:
        values = plan.values[product.pk]
        resumed = link is not None and not link.shopify_product_id
        try:
            if link is not None and resumed:
                ids = _lookup(client, values["sku"], link.handle or shopify_handle(values["sku"]), report)
                if ids is not None:
                    _adopt(link, ids, report)
                elif not plan.sellable(product):  # never made at Shopify, and nothing to make now
                    link.delete()
                    continue
            creating = link is None or not link.shopify_product_id
            if creating:
                link = _creating_mark(product, values, link)
            assert link is not None
            report.calls += 1
            answer = client.execute(
                "product_set",
                _variables(
                    values, None if creating else link,
                    title=_initial_title(product) if creating else None,
                    handle=link.handle if creating else None,
                ),
                idempotency_key=f"product-{product.pk}-{uuid.uuid4().hex}",
            )  # fmt: skip
        except Exception as exc:  # ShopifyUnavailable, a query error: failed, tried again next run
            _record(
                product,
                values,
                {"userErrors": [{"field": None, "message": str(exc)}]},
                report,
                now,
                created=False,
            )
            continue
        _record(product, values, _data(answer).get("productSet"), report, now, created=creating or resumed)
    return report


# --- The first sync: one bulk operation, recorded, resumable ----------------------------------------


def catalogue_bulk_jsonl(
    products: list[Product], values: dict[int, dict[str, Any]], handles: dict[int, str] | None = None
) -> bytes:
    """The staged upload of a first sync: one line of ``productSet`` variables per product to
    create, each identified by the handle it is created under (an upsert: a line run twice, by a
    second operation after a lost one, finds the product the first made)."""
    locations = _mapped_locations()  # read once, not once per line
    handles = handles or {}
    lines = [
        json.dumps(
            _variables(
                values[p.pk], None, title=_initial_title(p), locations=locations,
                handle=handles.get(p.pk) or shopify_handle(values[p.pk]["sku"]),
            )
        )
        for p in products
    ]  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def catalogue_bulk_start(
    products: list[Product],
    values: dict[int, dict[str, Any]],
    links: dict[int, ShopifyProduct],
    *,
    now: datetime,
) -> BulkOperation:
    """The first sync's operation recorded — what it covers, in line order, with the hash of what
    each line sends: the products it creates, each under the handle of its SKU — in one commit,
    before anything is sent to Shopify. The plan creates none of them again while it is unfinished.
    Links are not written for new products (50,000 rows written before, and updated after, cost a
    first sync minutes): they come with its result; a creation resumed into it keeps its link, marked."""
    with transaction.atomic():
        operation = bulk_operation_create(
            purpose=BULK_PURPOSE, covers=[[p.pk, values_hash(values[p.pk])] for p in products], now=now
        )
        known = [links[p.pk] for p in products if p.pk in links]
        for link in known:
            link.state, link.bulk = ShopifyProduct.State.CREATING, operation
            link.handle = link.handle or shopify_handle(values[link.product_id]["sku"])
        ShopifyProduct.objects.bulk_update(known, ["state", "bulk", "handle"], batch_size=2000)
    return operation


def catalogue_bulk_advance(
    operation: BulkOperation,
    *,
    client: Client,
    report: CatalogueReport,
    now: datetime,
    upload: Callable[[str, list[dict[str, str]], bytes], None] | None = None,
    wait_seconds: float | None = None,
) -> bool:
    """Take the first sync's operation up where it stands (integration.shopify.bulk), and apply its
    result once Shopify finished it. False while it still runs: the next run waits on."""
    covers = [(int(pk), str(h)) for pk, h in operation.covers]
    products_by_pk = Product.objects.select_related("mapping").in_bulk([pk for pk, _ in covers])
    products = [products_by_pk[pk] for pk, _ in covers if pk in products_by_pk]
    sellable = shopify_sellable_ids()
    values = {p.pk: as400_values(p, sellable=p.pk in sellable) for p in products}

    def body() -> bytes:
        handles = dict(ShopifyProduct.objects.filter(bulk=operation).values_list("product_id", "handle"))
        return catalogue_bulk_jsonl(products, values, handles)

    node = bulk_operation_advance(
        client, operation, mutation="product_set_bulk", body=body, upload=upload,
        wait_seconds=wait_seconds, on_call=report.note_call, now=now,
    )  # fmt: skip
    if node is None:
        report.bulk_running = True
        return False
    results: dict[int, dict[str, Any]] = {}
    for n, row in enumerate(bulk_lines(node)):
        index = row.get("__lineNumber", n)
        results[int(index)] = (row.get("data") or {}).get("productSet") or {}
    # Lines are numbered in covers' order; a product gone since is skipped, its line with it.
    numbered = [(i, products_by_pk[pk]) for i, (pk, _) in enumerate(covers) if pk in products_by_pk]
    with transaction.atomic():  # its result recorded and the operation applied, or neither
        _record_many(
            [p for _, p in numbered], values, {k: results.get(i) or {} for k, (i, _) in enumerate(numbered)},
            report, now, hashes=dict(covers), operation=operation,
        )  # fmt: skip
        bulk_operation_applied(operation, now=now)
    return True


def catalogue_bulk_finished() -> None:
    """The first sync's operation finished at Shopify (its webhook): the run that applies it, now."""
    catalogue_push_kick()


# --- products/update -----------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()]
    return [t.strip() for t in str(value or "").split(",") if t.strip()]


def shopify_product_updated(
    payload: dict[str, Any], *, triggered_at: datetime | None = None, now: datetime | None = None
) -> list[OwnershipViolation]:
    """A ``products/update``: Shopify's fields into the storefront content; our fields changed there
    recorded as violations and the product queued for a push that puts them back.

    A payload for a product we do not know is ignored (logged). Returns the violations recorded.
    """
    now = now or timezone.now()
    gid = payload.get("admin_graphql_api_id") or f"gid://shopify/Product/{payload.get('id')}"
    link = ShopifyProduct.objects.select_related("product__mapping").filter(shopify_product_id=gid).first()
    if link is None:
        logger.info("products/update for %s: not one of ours", gid)
        return []
    product = link.product
    content: dict[str, Any] = {}
    if "title" in payload and (payload["title"] or "") != product.title:
        content["title"] = (payload["title"] or "")[:200]
    if "body_html" in payload and (payload["body_html"] or "") != product.long_description:
        content["long_description"] = payload["body_html"] or ""
    if "images" in payload:
        images = [i.get("src") for i in payload.get("images") or [] if isinstance(i, dict) and i.get("src")]
        if images != product.images:
            content["images"] = images
    if "tags" in payload:
        tags = _tags(payload["tags"])
        if tags != (product.attributes or {}).get("tags"):
            content["attributes"] = {**(product.attributes or {}), "tags": tags}
    violations: list[OwnershipViolation] = []
    with transaction.atomic():
        if content:
            product_content_update(product=product, content=content, now=now)
        stale = (
            triggered_at is not None
            and link.last_pushed_at is not None
            and triggered_at < link.last_pushed_at
        )
        variants = payload.get("variants") or []
        variant = next(
            (v for v in variants if v.get("admin_graphql_api_id") == link.shopify_variant_id),
            variants[0] if variants else None,
        )
        if variant is not None and not stale:
            ours = as400_values(product, sellable=link.state == ShopifyProduct.State.PUSHED)
            theirs: dict[str, Any] = {
                "sku": variant.get("sku") or "",
                "barcode": variant.get("barcode") or "",
                "price": _decimal(variant.get("price")),
                "taxable": bool(variant.get("taxable")),
            }
            mine: dict[str, Any] = {**ours, "price": Decimal(ours["price"])}
            for name in ("sku", "barcode", "price", "taxable"):
                if name in variant and theirs[name] != mine[name]:
                    field_name = AS400_FIELDS[name]
                    violations.append(
                        OwnershipViolation.objects.create(
                            product=product,
                            field=field_name,
                            shopify_value=str(variant.get(name))[:200],
                            our_value=str(ours[name])[:200],
                            seen_at=now,
                        )
                    )
        if violations:
            # The next push sends every AS400 field again (the hash no longer matches).
            ShopifyProduct.objects.filter(pk=link.pk).update(pushed_hash="")
            transaction.on_commit(catalogue_push_kick, robust=True)
    return violations


def catalogue_push_kick() -> None:
    try:
        from django_q.tasks import async_task

        async_task(
            "shopify_channel.tasks.shopify_catalogue_push",
            task_name="Shopify catalogue push (after a change)",
        )
    except Exception:
        logger.warning("could not queue a Shopify catalogue push; the schedule will push", exc_info=True)


def catalogue_violations_open(products: Iterable[int] | None = None) -> list[OwnershipViolation]:
    query = OwnershipViolation.objects.filter(fixed_at__isnull=True)
    if products is not None:
        query = query.filter(product_id__in=list(products))
    return list(query)
