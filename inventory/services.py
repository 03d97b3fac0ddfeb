"""Writes of the inventory: the AS400's item master and stock extracts applied to the catalogue,
and the storefront-owned content of a product (``product_content_update``).

Both appliers take a decoded extract, named (``integration.as400.records``: ``ItemMaster``,
``StockBalances``, one list per field), write only
AS400-owned fields (``integration.core.ownership``), and return what they did and the data quality
findings, for the file run that records them. They run inside the caller's transaction: a file
is applied whole or not at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from integration.as400.appliers import QUALITY_SAMPLE, ApplyResult, Progress
from integration.as400.records import ItemMaster, StockBalances
from integration.core.ownership import System, check_product_write
from inventory.models import Category, ItemMapping, Location, Product, StockLevel
from inventory.moves import availability_listening, availability_moved, cause_uri


def ean13_is_valid(ean: str) -> bool:
    """True for 13 digits whose last is the EAN-13 check digit of the first 12."""
    if len(ean) != 13 or not ean.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(ean[:12]))
    return (10 - total % 10) % 10 == int(ean[12])


# --- Item master (ITMMST) ---------------------------------------------------------------------

ITEM_FIELDS = ["ean", "as400_description", "category", "price", "vat_code", "status", "as400_changed_on"]


def catalogue_apply_items(
    *, master: ItemMaster, full: bool, progress: Progress | None = None, now: datetime | None = None
) -> ApplyResult:
    """Apply an ITMMST extract: create or update products' AS400 fields, new families, mappings.

    A family seen for the first time becomes a category at stage ``off``. A new item is mapped
    with its item number as SKU unless ``INVENTORY_AUTO_MAP`` is off. A full extract is the whole
    item master: an item it no longer lists is marked delisted.

    A record the AS400 cannot mean — a price (IMPRIX) of zero or below, a status (IMSTAT) other
    than A, S or D, blank included — is written with status S (suspended), so the item is never
    sold on it, and is named in the ``items_with_impossible_price`` or ``items_with_unknown_status``
    finding; the next sane record of the item sets its status again.
    """
    check_product_write(System.AS400, ITEM_FIELDS)
    now = now or timezone.now()
    result = ApplyResult()
    items = master.item
    count = len(master)

    duplicates = [item for item, n in Counter(items).items() if n > 1]
    result.finding("duplicate_item_numbers", duplicates)
    eans = master.ean
    result.finding(
        "invalid_ean_check_digit",
        [f"{i} {e}" for i, e in zip(items, eans, strict=True) if e and not ean13_is_valid(e)],
    )
    ean_counts = Counter(e for e in eans if e)
    result.finding("duplicate_eans", [f"{e} ×{n}" for e, n in ean_counts.items() if n > 1])
    # Values the AS400 cannot mean: the item is written suspended, never sold on them.
    prices = master.price
    statuses = list(master.status)
    bad_price = [i for i in range(count) if prices[i] <= 0]
    bad_status = [i for i in range(count) if statuses[i] not in Product.Status.values]
    result.finding("items_with_impossible_price", [f"{items[i]} {prices[i]}" for i in bad_price])
    result.finding("items_with_unknown_status", [f"{items[i]} {statuses[i]!r}" for i in bad_status])
    for i in {*bad_price, *bad_status}:
        statuses[i] = Product.Status.SUSPENDED
    families = master.family
    result.finding("items_without_family", [i for i, f in zip(items, families, strict=True) if not f])

    new_families = sorted(
        {f for f in families if f} - set(Category.objects.values_list("family_code", flat=True))
    )
    Category.objects.bulk_create([Category(family_code=f) for f in new_families], ignore_conflicts=True)
    category_ids = dict(Category.objects.values_list("family_code", "id"))
    result.counts["new_categories"] = len(new_families)

    existing = set(Product.objects.filter(item_number__in=items).values_list("item_number", flat=True))
    products = []
    for i in range(count):
        products.append(
            Product(
                item_number=items[i],
                ean=eans[i],
                as400_description=master.description[i],
                category_id=category_ids.get(families[i]),
                price=prices[i],
                vat_code=master.vat_code[i],
                status=statuses[i],
                as400_changed_on=master.changed_on[i],
                created_at=now,
                updated_at=now,
            )
        )
    batch = 2000
    for start in range(0, count, batch):
        Product.objects.bulk_create(
            products[start : start + batch],
            update_conflicts=True,
            unique_fields=["item_number"],
            update_fields=[f if f != "category" else "category_id" for f in ITEM_FIELDS],
        )
        if progress:
            progress(min(batch, count - start))
    result.counts["created"] = len(set(items) - existing)
    result.counts["updated"] = len(existing)

    if full:
        delisted = (
            Product.objects.exclude(item_number__in=items)
            .exclude(status=Product.Status.DELISTED)
            .update(status=Product.Status.DELISTED)
        )
        result.counts["delisted_missing_from_full"] = delisted

    if getattr(settings, "INVENTORY_AUTO_MAP", True):
        result.counts["mapped"] = _map_new_items(result, now)
    return result


def _map_new_items(result: ApplyResult, now: datetime) -> int:
    """Map every unmapped item with its item number as SKU, unless that SKU is someone else's."""
    unmapped = list(Product.objects.filter(mapping__isnull=True).values_list("id", "item_number"))
    taken = set(ItemMapping.objects.filter(sku__in=[n for _, n in unmapped]).values_list("sku", flat=True))
    mapped = [pk for pk, number in unmapped if number not in taken]
    ItemMapping.objects.bulk_create(
        [
            ItemMapping(product_id=pk, sku=number, created_at=now)
            for pk, number in unmapped
            if number not in taken
        ],
        batch_size=2000,
    )
    Product.objects.filter(pk__in=mapped).update(updated_at=now)  # newly visible to `updated_since`
    result.finding("sku_already_mapped_to_another_item", sorted(taken))
    return len(unmapped) - len(taken)


# --- Stock (STKBAL) ---------------------------------------------------------------------------

_STAGE_TABLE = "stkbal_stage"
_RESOLVED_TABLE = "stkbal_resolved"
_DIFF_TABLE = "stkbal_diff"
BULK_ROWS = 100_000  # from this many staged rows on, joins are planned for bulk


def stock_apply_extract(
    *, balances: StockBalances, full: bool, taken_at: datetime, progress: Progress | None = None
) -> ApplyResult:
    """Apply a STKBAL extract to the stock levels, in the caller's transaction.

    The rows go to a temporary table (``COPY`` on PostgreSQL); then one statement rewrites the
    pairs whose figures changed, one inserts the pairs seen for the first time, and, for a full
    extract — the whole picture — one zeroes the pairs it no longer carries. Unchanged pairs are
    not touched. Stock for an item or a location we do not know is reported, not applied.
    """
    result = ApplyResult()
    items, locations = balances.item, balances.location
    on_hand, promised = balances.on_hand, balances.promised
    count = len(items)
    result.counts["records"] = count
    negatives = [i for i, q in enumerate(on_hand) if q < 0]
    result.finding(
        "negative_on_hand", [f"{items[i]}@{locations[i]:03d}: {on_hand[i]}" for i in negatives[:QUALITY_SAMPLE]],
        total=len(negatives),
    )  # fmt: skip
    rows: list[tuple[str, int, int, int]] = list(zip(items, locations, on_hand, promised, strict=True))
    # A negative SBQRS is nothing the AS400 can mean, and counting it would sell units that do not
    # exist (SBQOH 150, SBQRS -1000 made 1,150 sellable). Such a record is not applied: a delta
    # leaves the pair as the last sane figures had it, a full extract treats it as absent (zeroed).
    unmeant = [r for r in rows if r[3] < 0]
    if unmeant:
        result.finding(
            "negative_promised_not_applied",
            [f"{i}@{m:03d}: SBQOH {q}, SBQRS {p}" for i, m, q, p in unmeant[:QUALITY_SAMPLE]],
            total=len(unmeant),
        )
        rows = [r for r in rows if r[3] >= 0]
    if len(set(zip(items, locations, strict=True))) != count:  # rare: only then count the duplicates
        pairs = Counter(zip(items, locations, strict=True))
        result.finding("duplicate_pairs", [f"{i}@{m:03d}" for (i, m), n in pairs.items() if n > 1])
        rows = list({(r[0], r[1]): r for r in rows}.values())  # the last record of a pair wins

    stock, product, location = StockLevel._meta.db_table, Product._meta.db_table, Location._meta.db_table
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGE_TABLE} (item varchar(15) NOT NULL, location integer NOT NULL, "
            "on_hand integer NOT NULL, promised integer NOT NULL)"
        )
        if vendor == "postgresql":
            with cursor.cursor.copy(
                f"COPY {_STAGE_TABLE} (item, location, on_hand, promised) FROM STDIN"
            ) as copy:
                for n, row in enumerate(rows, 1):
                    copy.write_row(row)
                    if progress and n % 50_000 == 0:
                        progress(50_000)
            cursor.execute(f"ANALYZE {_STAGE_TABLE}")  # temporary tables are never analysed on their own
            if len(rows) >= BULK_ROWS:
                # Stock statistics lag behind a bulk load (an empty table looks empty until
                # analysed), and a nested loop against it goes quadratic: hash joins are what a
                # bulk extract wants, whatever the statistics say.
                cursor.execute("SET LOCAL enable_nestloop = off")
        else:
            cursor.executemany(f"INSERT INTO {_STAGE_TABLE} VALUES (%s, %s, %s, %s)", rows)
        if progress:
            progress(len(rows) % 50_000 if vendor == "postgresql" else len(rows))

        cursor.execute(
            f"SELECT s.item, s.location FROM {_STAGE_TABLE} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {product} p WHERE p.item_number = s.item) ORDER BY s.item, s.location"
        )
        unknown_items = cursor.fetchall()
        result.finding(
            "stock_for_unknown_items", [f"{i}@{m:03d}" for i, m in unknown_items[:QUALITY_SAMPLE]],
            total=len(unknown_items),
        )  # fmt: skip
        cursor.execute(
            f"SELECT s.location, count(*) FROM {_STAGE_TABLE} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {location} l WHERE l.code = s.location) GROUP BY s.location ORDER BY s.location"
        )
        unknown_locations = cursor.fetchall()
        result.finding(
            "stock_for_unknown_locations", [f"{m:03d} ({n} records)" for m, n in unknown_locations],
            total=sum(n for _, n in unknown_locations),
        )  # fmt: skip

        # The stage with our ids, then the difference with the stock in one join: the rows that
        # are new, that changed, or (full extract) that are no longer carried. Only those are written.
        cursor.execute(f"DROP TABLE IF EXISTS {_RESOLVED_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_RESOLVED_TABLE} AS SELECT p.id AS product_id, s.location, s.on_hand, "
            f"s.promised FROM {_STAGE_TABLE} s JOIN {product} p ON p.item_number = s.item "
            f"JOIN {location} l ON l.code = s.location"
        )
        missing = "OR (r.product_id IS NULL AND (t.on_hand <> 0 OR t.promised <> 0)) " if full else ""
        join = "FULL JOIN" if full else "LEFT JOIN"
        cursor.execute(f"DROP TABLE IF EXISTS {_DIFF_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_DIFF_TABLE} AS SELECT "
            f"COALESCE(r.product_id, t.product_id) AS product_id, COALESCE(r.location, t.location_id) AS location, "
            f"COALESCE(r.on_hand, 0) AS on_hand, COALESCE(r.promised, 0) AS promised, "
            f"CASE WHEN t.id IS NULL THEN 1 ELSE 0 END AS is_new, "
            f"CASE WHEN r.product_id IS NULL THEN 1 ELSE 0 END AS is_missing "
            f"FROM {_RESOLVED_TABLE} r {join} {stock} t ON t.product_id = r.product_id AND t.location_id = r.location "
            f"WHERE t.id IS NULL {missing}"
            f"OR (r.product_id IS NOT NULL AND (t.on_hand <> r.on_hand OR t.promised <> r.promised))"
        )
        if vendor == "postgresql":
            cursor.execute(f"ANALYZE {_DIFF_TABLE}")
            if len(rows) >= BULK_ROWS:
                cursor.execute("SET LOCAL enable_nestloop = on")  # the difference is small: index probes
        cursor.execute(
            f"UPDATE {stock} AS t SET on_hand = d.on_hand, promised = d.promised, as_of = %s FROM {_DIFF_TABLE} d "
            f"WHERE d.is_new = 0 AND t.product_id = d.product_id AND t.location_id = d.location",
            [taken_at],
        )
        changed = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {stock} (product_id, location_id, on_hand, promised, as_of, reserved, in_flight) "
            f"SELECT product_id, location, on_hand, promised, %s, 0, 0 FROM {_DIFF_TABLE} WHERE is_new = 1 "
            f"ORDER BY product_id, location",
            [taken_at],
        )
        result.counts["created"] = cursor.rowcount
        cursor.execute(f"SELECT count(*) FROM {_DIFF_TABLE} WHERE is_missing = 1")
        zeroed = cursor.fetchone()[0]
        if availability_listening():  # the changed pairs, for the Shopify push (inventory.moves)
            cursor.execute(f"SELECT product_id, location FROM {_DIFF_TABLE}")
            availability_moved(
                [(p, m) for p, m in cursor.fetchall()],
                cause=cause_uri("StockExtract", taken_at.strftime("%Y%m%dT%H%M%S%z")),
            )
        result.counts["updated"] = changed - zeroed
        if full:
            result.counts["zeroed_missing_from_full"] = zeroed
        cursor.execute(f"DROP TABLE {_DIFF_TABLE}")
        cursor.execute(f"DROP TABLE {_RESOLVED_TABLE}")
        cursor.execute(f"DROP TABLE {_STAGE_TABLE}")
    return result


# --- Storefront content ------------------------------------------------------------------


@transaction.atomic
def product_content_update(
    *, product: Product, content: Mapping[str, Any], now: datetime | None = None
) -> Product:
    """Write storefront-owned fields of a product; a field the storefront does not own refuses all.

    Refused writes raise :class:`~integration.core.ownership.FieldOwnershipError` before anything is
    written. Only the written fields are validated, so that AS400 data the platform merely
    mirrors never fails a storefront's write.
    """
    check_product_write(System.STOREFRONT, content.keys())
    if not content:
        return product
    for name, value in content.items():
        setattr(product, name, value)
    product.clean_fields(exclude=[f.name for f in Product._meta.fields if f.name not in content])
    product.updated_at = now or timezone.now()
    product.save(update_fields=[*content, "updated_at"])
    return product


def category_details_update(*, category: Category, name: str, safety_stock: int) -> Category:
    """Write a category's name and safety stock, and nothing else of its row.

    Its rollout stage is never written here: it moves through ``inventory.rollout.category_set_stage``,
    which records who moved it; a whole-row save would put back a stage changed meanwhile.
    """
    category.name, category.safety_stock = name, safety_stock
    category.clean_fields(
        exclude=[f.name for f in Category._meta.fields if f.name not in ("name", "safety_stock")]
    )
    category.save(update_fields=["name", "safety_stock"])
    return category
