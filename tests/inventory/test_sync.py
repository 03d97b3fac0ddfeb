"""ITMMST and STKBAL from OUT/ into the catalogue: once, whole, in order, refusals quarantined.

Files are written here as the AS400 writes them (real EBCDIC pairs in a real folder) and applied
by the real sync; nothing of ours is replaced.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_q.models import Schedule

from integration.as400 import sync
from integration.as400.codec import PARIS, RecordCodec
from integration.as400.sync import exchange_sync
from integration.models import Alert, FileRun
from inventory.errors import InventoryError
from inventory.models import Category, ItemMapping, Location, Product, StockLevel
from inventory.reservations import LineRequest, reservation_create
from inventory.rollout import category_set_stage
from inventory.selectors import availability_for, stock_as_of
from tests.factories.as400 import AS400Writer, as400_writer, item, stock
from tests.races import race, raised

pytestmark = pytest.mark.django_db

NIGHT = datetime(2026, 11, 22, 3, 45, tzinfo=PARIS)
MORNING = datetime(2026, 11, 22, 9, 15, tzinfo=PARIS)


def levels() -> dict[tuple[str, int], tuple[int, int]]:
    return {
        (s.product.item_number, s.location_id): (s.on_hand, s.promised)
        for s in StockLevel.objects.select_related("product")
    }


def outcomes() -> list[tuple[str, str]]:
    return [(f"{r.file}_{r.seq:06d}", r.outcome) for r in FileRun.objects.order_by("id")]


def test_an_item_master_creates_products_categories_off_and_mappings(
    as400_out: AS400Writer, exchange_dir: Path
) -> None:
    as400_out(
        "ITMMST",
        1,
        [item("A1", IMEAN=3017620422003, IMPRIX="19.99", IMDESC="Crème brûlée"), item("B2", IMFAMC="F002")],
    )

    report = exchange_sync(files=["ITMMST"])

    assert [r.outcome for r in report.runs] == ["applied"]
    a1 = Product.objects.get(item_number="A1")
    assert (a1.ean, str(a1.price), a1.as400_description, a1.category.family_code) == (
        "3017620422003",
        "19.99",
        "Crème brûlée",
        "F001",
    )  # type: ignore[union-attr]
    assert set(Category.objects.values_list("family_code", "rollout_stage")) == {
        ("F001", "off"),
        ("F002", "off"),
    }
    assert set(ItemMapping.objects.values_list("sku", flat=True)) == {"A1", "B2"}
    assert sorted(p.name for p in (exchange_dir / "OUT" / "ARCHIVE").iterdir()) == [
        "ITMMST_000001.DAT",
        "ITMMST_000001.OK",
    ]
    assert list((exchange_dir / "OUT").glob("*.DAT")) == []


def test_an_item_import_never_writes_storefront_fields(as400_out: AS400Writer) -> None:
    as400_out("ITMMST", 1, [item("A1", IMPRIX="10.00")])
    exchange_sync(files=["ITMMST"])
    Product.objects.filter(item_number="A1").update(title="Le beau titre", attributes={"colour": "rouge"})
    as400_out("ITMMST", 2, [item("A1", IMPRIX="12.50", IMDESC="Nouveau libellé")], kind="D")

    exchange_sync(files=["ITMMST"])

    a1 = Product.objects.get(item_number="A1")
    assert (str(a1.price), a1.as400_description) == ("12.50", "Nouveau libellé")
    assert (a1.title, a1.attributes) == ("Le beau titre", {"colour": "rouge"})


def test_a_full_item_master_delists_what_it_no_longer_lists(as400_out: AS400Writer) -> None:
    as400_out("ITMMST", 1, [item("A1"), item("B2")])
    as400_out("ITMMST", 2, [item("A1")])

    exchange_sync(files=["ITMMST"])

    assert dict(Product.objects.values_list("item_number", "status")) == {"A1": "A", "B2": "D"}


def test_item_data_quality_is_reported_per_run(as400_out: AS400Writer) -> None:
    as400_out(
        "ITMMST",
        1,
        [
            item("A1", IMEAN=3017620422003),
            item("A2", IMEAN=3017620422003),  # the same EAN twice
            item("A3", IMEAN=3017620422004),  # wrong check digit
            item("A4", IMFAMC=""),  # no family
        ],
    )

    run = exchange_sync(files=["ITMMST"]).runs[0]

    assert run.quality["duplicate_eans"] == {"count": 1, "examples": ["3017620422003 ×2"]}
    assert run.quality["invalid_ean_check_digit"] == {"count": 1, "examples": ["A3 3017620422004"]}
    assert run.quality["items_without_family"] == {"count": 1, "examples": ["A4"]}
    assert Alert.objects.get(kind="data_quality").subject == "ITMMST_000001"


def test_a_full_stock_extract_is_the_whole_picture(as400_out: AS400Writer, locations: list[Location]) -> None:
    as400_out("ITMMST", 1, [item("A1"), item("B2")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10, 2), stock("A1", 1, 3), stock("B2", 900, 4)], at=NIGHT)
    exchange_sync()
    as400_out("STKBAL", 2, [stock("A1", 900, 8, 1)], at=NIGHT.replace(day=23))

    report = exchange_sync()

    assert levels() == {("A1", 900): (8, 1), ("A1", 1): (0, 0), ("B2", 900): (0, 0)}
    assert report.runs[0].counts["zeroed_missing_from_full"] == 2
    assert StockLevel.objects.get(product__item_number="A1", location_id=900).as_of == NIGHT.replace(day=23)


def test_a_delta_changes_only_what_it_carries(as400_out: AS400Writer, locations: list[Location]) -> None:
    as400_out("ITMMST", 1, [item("A1"), item("B2")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10), stock("B2", 900, 4)], at=NIGHT)
    as400_out("STKBAL", 2, [stock("A1", 900, 7)], kind="D", at=MORNING)

    exchange_sync()

    assert levels() == {("A1", 900): (7, 0), ("B2", 900): (4, 0)}
    assert StockLevel.objects.get(product__item_number="B2").as_of == NIGHT


def test_stock_for_unknown_items_or_locations_is_reported_not_applied(
    as400_out: AS400Writer, locations: list[Location]
) -> None:
    as400_out("ITMMST", 1, [item("A1")])
    as400_out(
        "STKBAL", 1, [stock("A1", 900, -2), stock("ZZ", 900, 5), stock("A1", 77, 5), stock("A1", 900, 3)]
    )

    run = exchange_sync().runs[1]

    assert levels() == {("A1", 900): (3, 0)}  # the last record of a duplicated pair wins
    assert run.quality["stock_for_unknown_items"] == {"count": 1, "examples": ["ZZ@900"]}
    assert run.quality["stock_for_unknown_locations"] == {"count": 1, "examples": ["077 (1 records)"]}
    assert run.quality["negative_on_hand"]["count"] == 1
    assert run.quality["duplicate_pairs"] == {"count": 1, "examples": ["A1@900"]}


def test_each_file_is_applied_at_most_once_even_when_delivered_again(
    as400_out: AS400Writer, exchange_dir: Path, locations: list[Location]
) -> None:
    as400_out("ITMMST", 1, [item("A1")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10)])
    exchange_sync()
    StockLevel.objects.update(on_hand=99)  # so that a second application would show
    archive = exchange_dir / "OUT" / "ARCHIVE"
    for part in ("DAT", "OK"):  # the same pair shows up again in OUT/ (a copy left behind)
        (exchange_dir / "OUT" / f"STKBAL_000001.{part}").write_bytes(
            (archive / f"STKBAL_000001.{part}").read_bytes()
        )
        (archive / f"STKBAL_000001.{part}").unlink()

    second = exchange_sync()
    third = exchange_sync()

    assert second.runs == third.runs == []
    assert levels() == {("A1", 900): (99, 0)}
    assert outcomes() == [("ITMMST_000001", "applied"), ("STKBAL_000001", "applied")]
    assert (archive / "STKBAL_000001.DAT").exists()


def test_the_same_name_with_other_content_is_quarantined(
    as400_out: AS400Writer, exchange_dir: Path, locations: list[Location]
) -> None:
    as400_out("ITMMST", 1, [item("A1")])
    exchange_sync()
    (exchange_dir / "OUT" / "ARCHIVE" / "ITMMST_000001.OK").rename(exchange_dir / "ITMMST_000001.OK.kept")
    (exchange_dir / "OUT" / "ARCHIVE" / "ITMMST_000001.DAT").rename(exchange_dir / "ITMMST_000001.DAT.kept")
    as400_out("ITMMST", 1, [item("A1", IMPRIX="1.00")])

    exchange_sync()

    assert outcomes()[-1] == ("ITMMST_000001", "quarantined")
    assert str(Product.objects.get().price) == "10.00"
    assert Alert.objects.filter(kind="sequence_reused", subject="ITMMST_000001").exists()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: b[:-1], "not a whole number"),
        (lambda b: b[:-36], "counts 2 records"),
        (lambda b: b[:18] + b"\x00\x00\x00\x09\x9c" + b[23:], "CTHASH"),
        (lambda b: b[:22] + b"\x07" + b[23:], "SBQOH"),
    ],
    ids=["truncated", "missing-record", "hash", "bad-sign"],
)
def test_a_broken_stock_file_is_quarantined_with_its_reason_and_nothing_is_applied(
    as400_out: AS400Writer, exchange_dir: Path, locations: list[Location], damage: Any, reason: str
) -> None:
    as400_out("ITMMST", 1, [item("A1"), item("B2")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10), stock("B2", 900, 4)])
    exchange_sync()
    dat = as400_out("STKBAL", 2, [stock("A1", 900, 1), stock("B2", 900, 1)], kind="D")
    dat.write_bytes(damage(dat.read_bytes()))

    report = exchange_sync()

    assert [r.outcome for r in report.runs] == ["quarantined"]
    assert reason in report.runs[0].error
    assert levels() == {("A1", 900): (10, 0), ("B2", 900): (4, 0)}
    quarantine = exchange_dir / "OUT" / "QUARANTINE"
    assert (quarantine / "STKBAL_000002.DAT").exists()
    assert reason in (quarantine / "STKBAL_000002.REASON.txt").read_text()
    alert = Alert.objects.get(kind="file_refused")
    assert (alert.subject, alert.severity) == ("STKBAL_000002", "critical")


def test_a_delta_after_a_sequence_gap_is_quarantined_until_a_full_extract_heals_it(
    as400_out: AS400Writer, locations: list[Location]
) -> None:
    as400_out("ITMMST", 1, [item("A1")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10)], at=NIGHT)
    as400_out("STKBAL", 3, [stock("A1", 900, 1)], kind="D", at=MORNING)
    exchange_sync()
    as400_out("STKBAL", 4, [stock("A1", 900, 6)], at=MORNING.replace(hour=10))

    exchange_sync()

    assert outcomes()[1:] == [
        ("STKBAL_000001", "applied"),
        ("STKBAL_000003", "quarantined"),
        ("STKBAL_000004", "applied"),
    ]
    assert "STKBAL_000002 never arrived" in FileRun.objects.get(seq=3, file="STKBAL").error
    assert levels() == {("A1", 900): (6, 0)}
    assert Alert.objects.filter(kind="sequence_gap").count() == 1


def test_a_delta_older_than_the_newest_full_extract_is_ignored(
    as400_out: AS400Writer, locations: list[Location]
) -> None:
    as400_out("ITMMST", 1, [item("A1")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10)], at=NIGHT)
    as400_out("STKBAL", 2, [stock("A1", 900, 5)], kind="D", at=NIGHT.replace(hour=1))

    exchange_sync()

    assert outcomes()[1:] == [("STKBAL_000001", "applied"), ("STKBAL_000002", "ignored")]
    assert levels() == {("A1", 900): (10, 0)}


def test_files_are_taken_in_sequence_order(as400_out: AS400Writer, locations: list[Location]) -> None:
    as400_out("ITMMST", 1, [item("A1")])
    as400_out("STKBAL", 2, [stock("A1", 900, 7)], kind="D", at=MORNING)
    as400_out("STKBAL", 1, [stock("A1", 900, 10)], at=NIGHT)

    exchange_sync()

    assert outcomes()[1:] == [("STKBAL_000001", "applied"), ("STKBAL_000002", "applied")]
    assert levels() == {("A1", 900): (7, 0)}


def test_a_failure_while_applying_leaves_nothing_half_applied(
    as400_out: AS400Writer, exchange_dir: Path, locations: list[Location], monkeypatch: pytest.MonkeyPatch
) -> None:
    as400_out("ITMMST", 1, [item("A1"), item("B2")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10), stock("B2", 900, 4)])
    exchange_sync(files=["ITMMST"])
    real = sync.APPLIERS["STKBAL"]

    def dies_after_writing(*args: Any) -> Any:  # the process dies after the stock was written
        real(*args)
        raise RuntimeError("killed")

    monkeypatch.setitem(sync.APPLIERS, "STKBAL", dies_after_writing)
    with pytest.raises(RuntimeError):
        exchange_sync(files=["STKBAL"])

    assert levels() == {}
    assert outcomes() == [("ITMMST_000001", "applied")]
    assert (exchange_dir / "OUT" / "STKBAL_000001.OK").exists()  # still there, to be applied next time
    monkeypatch.setitem(sync.APPLIERS, "STKBAL", real)
    exchange_sync(files=["STKBAL"])
    assert levels() == {("A1", 900): (10, 0), ("B2", 900): (4, 0)}


def test_the_command_applies_what_is_ready_and_reports_each_file(
    as400_out: AS400Writer, locations: list[Location]
) -> None:
    as400_out("ITMMST", 1, [item("A1")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10)])
    out = StringIO()

    call_command("as400", "sync", "--no-progress", stdout=out)
    call_command("as400", "sync", "--no-progress", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ITMMST_000001 F applied: 1 records (new_categories 1, created 1")
    assert lines[1].startswith("STKBAL_000001 F applied: 1 records (records 1, created 1, updated 0")
    assert lines[2] == "Nothing to apply: no ready pair in OUT/."


def test_the_command_refuses_a_file_it_cannot_apply(exchange_dir: Path) -> None:
    # ORDIMP is a file we write (IN/), never one the AS400 exports: nothing applies it.
    with pytest.raises(CommandError, match="no applier for ORDIMP"):
        call_command("as400", "sync", "ordimp")


def test_the_sync_is_scheduled_every_minute() -> None:
    schedule = Schedule.objects.get(func="integration.tasks.as400_sync")

    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_syncs_apply_each_file_once_and_in_order(exchange_dir: Path) -> None:
    Location.objects.create(code=900, name="Entrepôt", kind=Location.Kind.WAREHOUSE)
    writer = as400_writer(exchange_dir)
    writer("ITMMST", 1, [item("A1")])
    writer("STKBAL", 1, [stock("A1", 900, 100)], at=NIGHT)
    for seq in range(2, 12):
        writer("STKBAL", seq, [stock("A1", 900, 100 - seq)], kind="D", at=MORNING.replace(minute=seq))

    def sync_now() -> None:
        for _ in range(3):
            exchange_sync()

    # No sync may fail: one that loses the race for a pair skips it (the lock, the run's constraint).
    assert raised(race(sync_now, [()] * 4, timeout=60)) == []

    assert outcomes() == [("ITMMST_000001", "applied")] + [
        (f"STKBAL_{n:06d}", "applied") for n in range(1, 12)
    ]
    assert levels() == {("A1", 900): (89, 0)}
    assert not Alert.objects.filter(kind="sequence_gap").exists()


@pytest.mark.django_db(transaction=True)
def test_a_sync_does_nothing_while_another_holds_the_lock(exchange_dir: Path) -> None:
    import threading

    from django.db import connections

    from integration.core.locks import try_lock

    writer = as400_writer(exchange_dir)
    writer("ITMMST", 1, [item("A1")])
    reports: list[sync.SyncReport] = []

    def other_worker() -> None:
        try:
            reports.append(exchange_sync())
        finally:
            connections.close_all()

    with try_lock(sync.SYNC_LOCK) as taken:  # this test is the sync already running
        assert taken
        worker = threading.Thread(target=other_worker)
        worker.start()
        worker.join(timeout=30)

    assert reports[0].skipped
    assert reports[0].runs == []
    assert FileRun.objects.count() == 0
    assert exchange_sync().runs[0].outcome == "applied"  # once the lock is free


def test_a_pair_written_by_hand_from_the_contract_flows_into_availability(
    exchange_dir: Path, locations: list[Location]
) -> None:
    """Bytes laid out by hand from "Encoding of a record", not by our encoder."""
    from inventory.selectors import availability_for

    as400_item = "PERCEUSE-18V".encode("cp297").ljust(15, b"\x40")
    ean = bytes.fromhex("F3F0F1F7F6F2F0F4F2F2F0F0F3")  # 13S 0: 3017620422003, zone F, positive
    description = "Perceuse à percussion".encode("cp297").ljust(30, b"\x40")
    itmmst = (
        as400_item + ean + description + "F001".encode("cp297")
        + bytes.fromhex("000000899F")  # IMPRIX 9P 2 = 8.99
        + "1A".encode("cp297") + bytes.fromhex("1261120F")  # VAT code 1, status A, changed 20/11/2026
    )  # fmt: skip
    stkbal = (
        as400_item + bytes.fromhex("F9F0F0")  # SBMAG 3S 0 = 900
        + bytes.fromhex("000000012F") + bytes.fromhex("000000002F")  # SBQOH 12, SBQRS 2
        + bytes.fromhex("1261122F") + bytes.fromhex("0034500F")  # 22/11/2026 03:45:00
    )  # fmt: skip

    def control(file: str, count: int, total: int) -> bytes:
        return (
            file.encode("cp297").ljust(10, b"\x40") + bytes.fromhex("F0F0F0F0F0F1") + "F".encode("cp297")
            + bytes.fromhex("1261122F") + bytes.fromhex("0034500F")
            + bytes.fromhex(f"{count:09d}F") + bytes.fromhex(f"{total:015d}F")
        )  # fmt: skip

    (exchange_dir / "OUT" / "ITMMST_000001.DAT").write_bytes(itmmst)
    (exchange_dir / "OUT" / "ITMMST_000001.OK").write_bytes(control("ITMMST", 1, 899))
    (exchange_dir / "OUT" / "STKBAL_000001.DAT").write_bytes(stkbal)
    (exchange_dir / "OUT" / "STKBAL_000001.OK").write_bytes(control("STKBAL", 1, 12))

    report = exchange_sync()
    Category.objects.update(rollout_stage=Category.Stage.LIVE, safety_stock=1)

    assert [r.outcome for r in report.runs] == ["applied", "applied"], [r.error for r in report.runs]
    product = Product.objects.get(item_number="PERCEUSE-18V")
    assert (product.ean, str(product.price), product.as400_description) == (
        "3017620422003",
        "8.99",
        "Perceuse à percussion",
    )
    result = availability_for(skus=["PERCEUSE-18V"], include_pilot=False)["PERCEUSE-18V"]
    assert result.home_delivery == 12 - 2 - 1
    assert result.as_of == datetime(2026, 11, 22, 3, 45, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("file", "records", "field"),
    [
        ("ITMMST", [item("A1"), item("B2", IMDTCH=1261340)], "IMDTCH"),
        (
            "ORDACK",
            [{"AKWEBN": "WEB-1", "AKSTAT": "A", "AKCDE": "C000000001", "AKDATE": 1261399, "AKTIME": 101500,
              "AKRSN": "", "AKMSG": ""}],
            "AKDATE",
        ),
        (
            "ORDACK",
            [{"AKWEBN": "WEB-1", "AKSTAT": "A", "AKCDE": "C000000001", "AKDATE": 1261124, "AKTIME": 256100,
              "AKRSN": "", "AKMSG": ""}],
            "AKTIME",
        ),
    ],
)  # fmt: skip
def test_an_impossible_date_quarantines_its_pair_and_the_files_behind_it_go_on(
    as400_out: AS400Writer, exchange_dir: Path, locations: list[Location], file: str, records: Any, field: str
) -> None:
    # given a first item master, then a pair holding a date or time that does not exist, then stock
    as400_out("ITMMST", 1, [item("A1"), item("B2")])
    exchange_sync()
    sane = [{**r, field: 1261124 if field.endswith(("DATE", "DTCH")) else 101500} for r in records]
    dat = as400_out(file, 2 if file == "ITMMST" else 1, sane, kind="D")  # its .OK: count and hash agree
    dat.write_bytes(RecordCodec.for_file(file, 297).encode_many(records))
    as400_out("STKBAL", 1, [stock("A1", 900, 10)])

    # when
    report = exchange_sync()

    # then that pair is quarantined, naming its record and field; the stock behind it is applied
    outcomes = {r.file: (r.outcome, r.error) for r in report.runs}
    outcome, error = outcomes[file]
    assert outcome == "quarantined"
    assert f"record {len(records)}, field {field}" in error
    assert outcomes["STKBAL"][0] == "applied"
    assert levels()[("A1", 900)] == (10, 0)
    assert Alert.objects.filter(kind="file_refused", severity="critical").count() == 1


def test_a_negative_promised_figure_is_never_sold_on(
    as400_out: AS400Writer, locations: list[Location]
) -> None:
    # given items, and a full extract where the AS400 says SBQOH 150, SBQRS -1000 for A1 at 900
    as400_out("ITMMST", 1, [item("A1"), item("B2")])
    as400_out("STKBAL", 1, [stock("A1", 900, 150, promised=-1000), stock("B2", 900, 4)])

    # when
    report = exchange_sync()

    # then that record is not applied (the attack made 1,150 units sellable) and the run says why
    run = next(r for r in report.runs if r.file == "STKBAL")
    assert run.outcome == "applied"
    assert levels().get(("A1", 900), (0, 0)) == (0, 0)
    assert levels()[("B2", 900)] == (4, 0)
    finding = run.quality["negative_promised_not_applied"]
    assert finding["count"] == 1
    assert finding["examples"] == ["A1@900: SBQOH 150, SBQRS -1000"]

    # and a delta carrying it again leaves the last sane figures as they were
    as400_out("STKBAL", 2, [stock("B2", 900, 4, promised=-1)], kind="D")
    exchange_sync()
    assert levels()[("B2", 900)] == (4, 0)


def test_an_item_with_an_impossible_price_or_an_unknown_status_is_never_sold_and_is_reported(
    as400_out: AS400Writer, locations: list[Location]
) -> None:
    # given an item master with a free item, a negative price, an unknown and a blank status
    names = ["OK", "FREE", "NEG", "ODD", "BLANK"]
    as400_out("ITMMST", 1, [
        item("OK"), item("FREE", IMPRIX="0.00"), item("NEG", IMPRIX="-5.00"), item("ODD", IMSTAT="X"),
        item("BLANK", IMSTAT=""),
    ])  # fmt: skip
    as400_out("STKBAL", 1, [stock(n, 900, 10) for n in names])

    # when the sync applies them and the family goes live
    runs = exchange_sync().runs
    category_set_stage(category=Category.objects.get(family_code="F001"), stage="live", actor_name="test")

    # then only the sane item is sold; the others are suspended and named in the quality report
    assert [r.outcome for r in runs] == ["applied", "applied"]
    assert list(availability_for(skus=names, include_pilot=True)) == ["OK"]
    with pytest.raises(InventoryError):
        reservation_create(lines=[LineRequest("FREE", 1)])
    assert dict(Product.objects.values_list("item_number", "status")) == {
        "OK": "A", "FREE": "S", "NEG": "S", "ODD": "S", "BLANK": "S",
    }  # fmt: skip
    quality = runs[0].quality
    assert quality["items_with_impossible_price"]["examples"] == ["FREE 0.00", "NEG -5.00"]
    assert quality["items_with_unknown_status"]["examples"] == ["ODD 'X'", "BLANK ''"]
    assert Alert.objects.filter(kind="data_quality", subject="ITMMST_000001").exists()


# --- Extract times that cannot be right (the AS400's clock, or the .OK, is wrong) -------------


@pytest.mark.clock(MORNING)
def test_a_future_dated_extract_is_quarantined_and_never_freezes_the_stock(
    as400_out: AS400Writer, exchange_dir: Path, locations: list[Location]
) -> None:
    # given a full extract dated 2099 (the attack), then a full and a delta correctly dated
    as400_out("ITMMST", 1, [item("A1")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10)], at=datetime(2099, 1, 1, 3, 0, tzinfo=PARIS))
    as400_out("STKBAL", 2, [stock("A1", 900, 7)], at=NIGHT)
    as400_out("STKBAL", 3, [stock("A1", 900, 6)], kind="D", at=NIGHT.replace(hour=6))

    # when the sync runs
    exchange_sync()

    # then the 2099 file is quarantined and alerted, naming its date and the clock; the later
    # files apply (before, every later delta was "older than the full extract" for ever), and
    # the stock is as of the last one, never 2099
    assert outcomes()[1:] == [
        ("STKBAL_000001", "quarantined"), ("STKBAL_000002", "applied"), ("STKBAL_000003", "applied"),
    ]  # fmt: skip
    reason = (exchange_dir / "OUT" / "QUARANTINE" / "STKBAL_000001.REASON.txt").read_text()
    assert "taken at 2099-01-01T03:00:00+01:00 (CTCDAT/CTCTIM)" in reason
    assert "ahead of the AS400's clock" in reason
    alert = Alert.objects.get(kind="implausible_time", subject="STKBAL_000001")
    assert alert.severity == "critical"
    assert levels() == {("A1", 900): (6, 0)}
    assert stock_as_of() == NIGHT.replace(hour=6)


@pytest.mark.clock(MORNING)
def test_a_full_extract_dated_hours_before_the_last_one_is_quarantined(
    as400_out: AS400Writer, locations: list[Location]
) -> None:
    # given a full extract, then a later one (by its number) dated five hours before it
    as400_out("ITMMST", 1, [item("A1")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10)], at=NIGHT)
    as400_out("STKBAL", 2, [stock("A1", 900, 3)], at=NIGHT - timedelta(hours=5))

    # when
    exchange_sync()

    # then the second is quarantined: the AS400's clock went back; the stock stays as the first said
    assert outcomes()[1:] == [("STKBAL_000001", "applied"), ("STKBAL_000002", "quarantined")]
    assert "the AS400's clock went back" in FileRun.objects.get(file="STKBAL", seq=2).error
    assert levels() == {("A1", 900): (10, 0)}


@pytest.mark.parametrize("missing", ["OUT", "IN/ERR"])
def test_a_missing_exchange_folder_stops_the_sync_which_creates_nothing(
    as400_out: AS400Writer, exchange_dir: Path, missing: str
) -> None:
    # given a pair ready, and a folder of the exchange gone (the share not mounted, or moved)
    as400_out("ITMMST", 1, [item("A1")])
    shutil.rmtree(exchange_dir / missing)

    # when the sync runs, by itself and through the command
    report = exchange_sync()
    with pytest.raises(CommandError, match=f"lacks {missing}/"):
        call_command("as400", "sync", stdout=StringIO())

    # then nothing is applied or created, and operations are told which folder is missing
    assert report.runs == []
    assert f"lacks {missing}/" in report.unavailable
    assert not (exchange_dir / missing).exists()
    assert Product.objects.count() == 0
    assert f"lacks {missing}/" in Alert.objects.get(kind="exchange_unavailable").message


def test_the_same_pair_delivered_again_is_put_aside_once_with_one_alert(
    as400_out: AS400Writer, exchange_dir: Path, locations: list[Location]
) -> None:
    # given a stock extract applied and archived, then the same bytes delivered again into OUT/
    as400_out("ITMMST", 1, [item("A1")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10)])
    exchange_sync()
    StockLevel.objects.update(on_hand=99)  # so that a second application would show
    archive = exchange_dir / "OUT" / "ARCHIVE"
    for part in ("DAT", "OK"):
        shutil.copy(archive / f"STKBAL_000001.{part}", exchange_dir / "OUT" / f"STKBAL_000001.{part}")

    # when the sync runs every minute for three minutes
    for _ in range(3):
        exchange_sync()

    # then nothing is applied again; the copy is put aside at the first run, with its reason, and
    # alerted once (it used to stay in OUT/ and raise a critical alert at every run)
    assert levels() == {("A1", 900): (99, 0)}
    assert not (exchange_dir / "OUT" / "STKBAL_000001.OK").exists()
    reason = (exchange_dir / "OUT" / "QUARANTINE" / "STKBAL_000001.REASON.txt").read_text()
    assert "STKBAL_000001 delivered again: the same bytes" in reason
    alert = Alert.objects.get(subject="STKBAL_000001")
    assert (alert.kind, alert.severity, alert.occurrences) == ("delivered_again", "warning", 1)


def test_files_in_out_that_will_never_be_read_are_alerted_once(
    as400_out: AS400Writer, exchange_dir: Path, locations: list[Location]
) -> None:
    # given in OUT/ a .DAT alone for two hours, a .OK alone as long, a foreign name, and a .DAT
    # written a minute ago (its writer is still at work)
    out = exchange_dir / "OUT"
    stuck = as400_out("STKBAL", 1, [stock("A1", 900, 1)])
    stuck.with_suffix(".OK").unlink()
    orphan = as400_out("ITMMST", 1, [item("A1")])
    orphan.unlink()
    foreign = out / "stock-export-final.csv"
    foreign.write_text("A1;10\n")
    young = as400_out("STKBAL", 2, [stock("A1", 900, 1)], kind="D")
    young.with_suffix(".OK").unlink()
    two_hours_ago = time.time() - 7200
    for path in (stuck, orphan.with_suffix(".OK"), foreign):
        os.utime(path, (two_hours_ago, two_hours_ago))
    os.utime(young, (time.time() - 60, time.time() - 60))

    # when the sync runs every minute for three minutes
    for _ in range(3):
        exchange_sync()

    # then each of the three is alerted once, naming it; the young .DAT is left to its writer
    alerts = {
        a.subject: (a.kind, a.occurrences)
        for a in Alert.objects.filter(kind__in=["lone_file", "foreign_file"])
    }
    assert alerts == {
        "OUT/STKBAL_000001.DAT": ("lone_file", 1),
        "OUT/ITMMST_000001.OK": ("lone_file", 1),
        "OUT/stock-export-final.csv": ("foreign_file", 1),
    }
    assert "no STKBAL_000001.OK" in Alert.objects.get(subject="OUT/STKBAL_000001.DAT").message


def test_each_pair_is_decoded_once_from_its_verification_to_its_apply(
    as400_out: AS400Writer, locations: list[Location], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an item master and a stock extract, and the decoder counted (it still decodes)
    as400_out("ITMMST", 1, [item("A1")])
    as400_out("STKBAL", 1, [stock("A1", 900, 10, 2)])
    decoded: list[str] = []
    decode_columns = RecordCodec.decode_columns

    def counted(self: RecordCodec, data: bytes, *, source: str = "") -> dict[str, list[Any]]:
        decoded.append(self.layout.name)
        return decode_columns(self, data, source=source)

    monkeypatch.setattr(RecordCodec, "decode_columns", counted)

    # When the sync verifies and applies both
    exchange_sync()

    # Then each file was decoded once: the columns its verification decoded are the ones applied
    assert levels() == {("A1", 900): (10, 2)}
    assert sorted(decoded) == ["ITMMST", "STKBAL"]
