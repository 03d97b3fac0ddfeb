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

import numpy as np
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
_DIFF_TABLE = "stkbal_diff"
BULK_ROWS = 100_000  # from this many staged rows on, joins are planned for bulk
PROGRESS_STEP = 50_000
#: The binary COPY of the stage: a tuple is its field count, then each field's length and value
#: (big-endian), the stage's types exactly: product bigint, location, on hand, promised integer.
_STAGE_TUPLE = np.dtype(
    [("fields", ">i2"), ("l_product", ">i4"), ("product", ">i8"), ("l_location", ">i4"), ("location", ">i4"),
     ("l_on_hand", ">i4"), ("on_hand", ">i4"), ("l_promised", ">i4"), ("promised", ">i4")]
)  # fmt: skip
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, header extension length
_COPY_TRAILER = b"\xff\xff"


def stock_apply_extract(
    *, balances: StockBalances, full: bool, taken_at: datetime, progress: Progress | None = None
) -> ApplyResult:
    """Apply a STKBAL extract to the stock levels, in the caller's transaction.

    The records are checked and resolved to our products and locations with NumPy (one pass over
    columns, no Python work per record but a dictionary look-up of its item), go to a temporary
    table (a binary ``COPY`` on PostgreSQL); then one statement rewrites the pairs whose figures
    changed, one inserts the pairs seen for the first time, and, for a full extract — the whole
    picture — one zeroes the pairs it no longer carries. Unchanged pairs are not touched. Stock for
    an item or a location we do not know is reported, not applied.
    """
    result = ApplyResult()
    items, locations = balances.item, balances.location
    on_hand, promised = balances.on_hand, balances.promised
    count = len(items)
    result.counts["records"] = count
    location_of = np.array(locations, dtype=np.int64)
    on_hand_of = np.array(on_hand, dtype=np.int64)
    promised_of = np.array(promised, dtype=np.int64)
    negatives = np.flatnonzero(on_hand_of < 0)
    result.finding(
        "negative_on_hand", [f"{items[i]}@{locations[i]:03d}: {on_hand[i]}" for i in negatives[:QUALITY_SAMPLE]],
        total=len(negatives),
    )  # fmt: skip
    # Each distinct item code a number (the order it first appears in), each record its pair's key.
    codes = {code: n for n, code in enumerate(dict.fromkeys(items))}
    code_of = np.fromiter(map(codes.__getitem__, items), dtype=np.int64, count=count)
    pair_key = code_of * 2000 + (location_of + 1000)  # SBMAG is 3 digits, signed
    # A negative SBQRS is nothing the AS400 can mean, and counting it would sell units that do not
    # exist (SBQOH 150, SBQRS -1000 made 1,150 sellable). Such a record is not applied: a delta
    # leaves the pair as the last sane figures had it, a full extract treats it as absent (zeroed).
    unmeant = np.flatnonzero(promised_of < 0)
    if len(unmeant):
        result.finding(
            "negative_promised_not_applied",
            [f"{items[i]}@{locations[i]:03d}: SBQOH {on_hand[i]}, SBQRS {promised[i]}" for i in unmeant[:QUALITY_SAMPLE]],
            total=len(unmeant),
        )  # fmt: skip
    sane = np.flatnonzero(promised_of >= 0)
    ordered_keys = np.sort(pair_key)
    if (ordered_keys[1:] == ordered_keys[:-1]).any():  # rare: only then count the duplicates
        pairs = Counter(zip(items, locations, strict=True))
        result.finding("duplicate_pairs", [f"{i}@{m:03d}" for (i, m), n in pairs.items() if n > 1])
        # The last sane record of a pair wins.
        backwards = sane[::-1]
        _, first_backwards = np.unique(pair_key[backwards], return_index=True)
        sane = np.sort(backwards[first_backwards])
    applied = len(sane)

    # Our products by item code: the whole catalogue for a big file, else the ones it names.
    products = Product.objects.all() if len(codes) > 500 else Product.objects.filter(item_number__in=list(codes))
    known_products = dict(products.values_list("item_number", "id"))
    product_by_code = np.array([known_products.get(c, 0) for c in codes], dtype=np.int64)
    product_of = product_by_code[code_of[sane]]
    unknown_item = product_of == 0
    unknown_items = sorted((items[i], locations[i]) for i in sane[unknown_item])
    result.finding(
        "stock_for_unknown_items", [f"{i}@{m:03d}" for i, m in unknown_items[:QUALITY_SAMPLE]],
        total=len(unknown_items),
    )  # fmt: skip
    known_locations = np.array(sorted(Location.objects.values_list("code", flat=True)), dtype=np.int64)
    staged_locations = location_of[sane]
    unknown_location = ~np.isin(staged_locations, known_locations)
    missing_codes, missing_counts = np.unique(staged_locations[unknown_location], return_counts=True)
    result.finding(
        "stock_for_unknown_locations",
        [f"{m:03d} ({n} records)" for m, n in zip(missing_codes.tolist(), missing_counts.tolist(), strict=True)],
        total=int(missing_counts.sum()),
    )
    keep = ~(unknown_item | unknown_location)
    stage = sane[keep]
    stage_product, stage_location = product_of[keep], staged_locations[keep]
    stage_on_hand, stage_promised = on_hand_of[stage], promised_of[stage]

    stock = StockLevel._meta.db_table
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGE_TABLE} (product_id bigint NOT NULL, location integer NOT NULL, "
            "on_hand integer NOT NULL, promised integer NOT NULL)"
        )
        if vendor == "postgresql":
            tuples = np.empty(len(stage), dtype=_STAGE_TUPLE)
            tuples["fields"] = 4
            tuples["l_product"], tuples["l_location"], tuples["l_on_hand"], tuples["l_promised"] = 8, 4, 4, 4
            tuples["product"], tuples["location"] = stage_product, stage_location
            tuples["on_hand"], tuples["promised"] = stage_on_hand, stage_promised
            with cursor.cursor.copy(
                f"COPY {_STAGE_TABLE} (product_id, location, on_hand, promised) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.write(_COPY_HEADER)
                for first in range(0, len(tuples), PROGRESS_STEP):
                    copy.write(tuples[first : first + PROGRESS_STEP].tobytes())
                    if progress:
                        progress(len(tuples[first : first + PROGRESS_STEP]))
                copy.write(_COPY_TRAILER)
            if applied >= BULK_ROWS:  # memory for the sorts and hash joins of a bulk extract
                cursor.execute("SET LOCAL work_mem = '256MB'")
        else:
            cursor.executemany(
                f"INSERT INTO {_STAGE_TABLE} VALUES (%s, %s, %s, %s)",
                list(zip(stage_product.tolist(), stage_location.tolist(), stage_on_hand.tolist(),
                         stage_promised.tolist(), strict=True)),
            )  # fmt: skip
            if progress:
                progress(len(stage))
        if progress and applied > len(stage):
            progress(applied - len(stage))  # the records reported, not applied
        cause = cause_uri("StockExtract", taken_at.strftime("%Y%m%dT%H%M%S%z"))
        if full and not StockLevel.objects.exists():
            # The first full extract, into no stock at all: every pair is new, none to compare.
            cursor.execute(
                f"INSERT INTO {stock} (product_id, location_id, on_hand, promised, as_of, reserved, in_flight) "
                f"SELECT product_id, location, on_hand, promised, %s, 0, 0 FROM {_STAGE_TABLE} "
                f"ORDER BY product_id, location",
                [taken_at],
            )
            result.counts["created"] = cursor.rowcount
            result.counts["updated"] = result.counts["zeroed_missing_from_full"] = 0
            if availability_listening():
                cursor.execute(f"SELECT product_id, location FROM {_STAGE_TABLE}")
                availability_moved(cursor.fetchall(), cause=cause)
            cursor.execute(f"DROP TABLE {_STAGE_TABLE}")
            return result
        if vendor == "postgresql":
            cursor.execute(f"ANALYZE {_STAGE_TABLE}")  # temporary tables are never analysed on their own
            if applied >= BULK_ROWS:
                # Stock statistics lag behind a bulk load (an empty table looks empty until
                # analysed), and a nested loop against it goes quadratic: hash joins are what a
                # bulk extract wants, whatever the statistics say.
                cursor.execute("SET LOCAL enable_nestloop = off")

        # The difference between the stage and the stock in one join: the rows that are new, that
        # changed, or (full extract) that are no longer carried. Only those are written.
        missing = "OR (r.product_id IS NULL AND (t.on_hand <> 0 OR t.promised <> 0)) " if full else ""
        join = "FULL JOIN" if full else "LEFT JOIN"
        cursor.execute(f"DROP TABLE IF EXISTS {_DIFF_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_DIFF_TABLE} AS SELECT "
            f"COALESCE(r.product_id, t.product_id) AS product_id, COALESCE(r.location, t.location_id) AS location, "
            f"COALESCE(r.on_hand, 0) AS on_hand, COALESCE(r.promised, 0) AS promised, "
            f"CASE WHEN t.id IS NULL THEN 1 ELSE 0 END AS is_new, "
            f"CASE WHEN r.product_id IS NULL THEN 1 ELSE 0 END AS is_missing "
            f"FROM {_STAGE_TABLE} r {join} {stock} t ON t.product_id = r.product_id AND t.location_id = r.location "
            f"WHERE t.id IS NULL {missing}"
            f"OR (r.product_id IS NOT NULL AND (t.on_hand <> r.on_hand OR t.promised <> r.promised))"
        )
        if vendor == "postgresql":
            cursor.execute(f"ANALYZE {_DIFF_TABLE}")
            if applied >= BULK_ROWS:
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
            availability_moved(cursor.fetchall(), cause=cause)
        result.counts["updated"] = changed - zeroed
        if full:
            result.counts["zeroed_missing_from_full"] = zeroed
        cursor.execute(f"DROP TABLE {_DIFF_TABLE}")
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
