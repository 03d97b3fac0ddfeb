"""Benchmark: decoding a full STKBAL extract (1.55 million records) four ways.

    .venv/bin/python bench/codec_decode.py [--items 50000] [--locations 31] [--repeat 3]

Generates a full STKBAL extract in a temporary file (items × locations records: 001-030 and the
warehouse 900 by default, realistic quantities, some negative), then measures, best of
``--repeat`` runs, each starting from the file on disk (warm page cache):

(a) a plain read of the file: the floor;
(b) a straightforward field-by-field pure-Python decoder written here (the honest naive
    baseline: per record, per field, slice; cp297 and rstrip for A, hex for P, a nibble loop
    for S; signs and digits checked as the contract says);
(c) RecordCodec.iter_decode: our record-at-a-time decoder, a dict per record;
(d) RecordCodec.decode_columns: the importer's path, the whole file as one list per field;
(e) decode_columns chunk by chunk (65,536 records), as ``manage.py as400 decode`` reads.

It checks that (c), (d) and (e) give the same values as (b) on a sample of records (and (d)
the same count and SBQOH total as the generator), prints the speed-up of (d) over (b), and
whether (d) meets the target: at least 1,000,000 records/s decoded to values usable by the
importer. See bench/README.md for how to read the figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "b" * 40)  # a bench, not a deployment
os.environ.setdefault("DJANGO_HTTPS", "false")  # plain HTTP on loopback

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from integration.as400.codec import RecordCodec  # noqa: E402
from integration.as400.dds import FileLayout, load_layout  # noqa: E402

TARGET_RECORDS_PER_SECOND = 1_000_000
CCSID = 297
ENCODING = "cp297"
CHUNK_RECORDS = 65_536
SAMPLE_SIZE = 2_000


# --- Generating the extract ----------------------------------------------------------------------


def packed(values: np.ndarray, size: int) -> np.ndarray:
    """Packed decimal bytes (n, size) of int64 ``values``, signs F and D as the AS400 writes."""
    out = np.empty((len(values), size), dtype=np.uint8)
    rest = np.abs(values)
    sign = np.where(values < 0, 0xD, 0xF)
    out[:, -1] = ((rest % 10) << 4) | sign
    rest //= 10
    for k in range(size - 2, -1, -1):
        out[:, k] = ((rest // 10 % 10) << 4) | (rest % 10)
        rest //= 100
    return out


def zoned(values: np.ndarray, digits: int) -> np.ndarray:
    """Zoned decimal bytes (n, digits) of non-negative int64 ``values``, zone F."""
    out = np.empty((len(values), digits), dtype=np.uint8)
    rest = values.copy()
    for k in range(digits - 1, -1, -1):
        out[:, k] = 0xF0 | (rest % 10)
        rest //= 10
    return out


def item_codes(count: int, rng: random.Random) -> list[str]:
    """Item codes as a retailer has them: mostly 8 digits, some with a family prefix or a suffix."""
    codes = []
    for i in range(count):
        n = 10_000_000 + i * 7 + rng.randrange(7)
        style = rng.random()
        if style < 0.80:
            codes.append(f"{n:08d}")
        elif style < 0.95:
            codes.append(f"{rng.choice(['JAR', 'BRI', 'DEC', 'TXT', 'CUI'])}-{n % 1_000_000:06d}")
        else:
            codes.append(f"{n:08d}/{rng.choice('ABCDEFGH')}{rng.randrange(100):02d}")
    return codes


def locations(count: int) -> list[int]:
    """``count`` locations: the stores 001, 002... and the warehouse 900 last."""
    if count < 1 or count > 900:
        raise SystemExit("--locations must be 1 to 900")
    return [*range(1, count), 900]


@dataclass
class Extract:
    path: Path
    records: int
    size: int
    qoh_total: int
    negatives: np.ndarray  # indices of records with SBQOH < 0


def cyymmdd_of(days: np.ndarray) -> np.ndarray:
    """datetime64[D] values to the AS400's CYYMMDD integers (YYYYMMDD - 19000000)."""
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    return year * 10_000 + month * 100 + day - 19_000_000


def generate(path: Path, layout: FileLayout, items: int, location_count: int, seed: int) -> Extract:
    """Write a full STKBAL extract to ``path``: every item at every location, keyed in order.

    Built with NumPy a block of items at a time, so that generating does not weigh on the
    memory figures of the decoders measured after it.
    """
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    fmt = layout.formats[0]
    mags = locations(location_count)
    codes = item_codes(items, rng)
    codec = RecordCodec(layout, CCSID)
    warehouse = np.array(mags) == 900
    mag_bytes = zoned(np.array(mags, dtype=np.int64), 3)
    total = 0
    negatives: list[np.ndarray] = []
    block_items = 5_000
    with open(path, "wb") as fh:
        for first_item in range(0, items, block_items):
            block_codes = codes[first_item : first_item + block_items]
            count = len(block_codes) * len(mags)
            first_record = first_item * len(mags)
            item_bytes = np.frombuffer(
                b"".join(code.encode(ENCODING).ljust(15, b"\x40") for code in block_codes), dtype=np.uint8
            ).reshape(len(block_codes), 15)
            # On hand: most store lines hold a few units, a quarter none; the warehouse holds more;
            # about 2% are negative (sales recorded before the goods receipt), a few are large.
            is_warehouse = np.tile(warehouse, len(block_codes))
            qoh = np.where(is_warehouse, nprng.integers(0, 5_000, count), nprng.poisson(4, count))
            qoh[nprng.random(count) < 0.25] = 0
            negative = nprng.random(count) < 0.02
            qoh[negative] = -nprng.integers(1, 25, int(negative.sum()))
            big = nprng.random(count) < 0.001
            qoh[big] = nprng.integers(10_000, 250_000, int(big.sum()))
            qrs = np.minimum(np.maximum(qoh, 0), nprng.integers(0, 4, count))
            qrs[nprng.random(count) < 0.7] = 0
            days = np.datetime64("2024-01-01") + nprng.integers(0, 692, count).astype("timedelta64[D]")
            cyymmdd = cyymmdd_of(days)
            seconds = nprng.integers(0, 86_400, count)
            hhmmss = seconds // 3600 * 10_000 + seconds // 60 % 60 * 100 + seconds % 60

            matrix = np.empty((count, layout.record_length), dtype=np.uint8)
            columns = {
                "SBITEM": np.repeat(item_bytes, len(mags), axis=0),
                "SBMAG": np.tile(mag_bytes, (len(block_codes), 1)),
                "SBQOH": packed(qoh, fmt.field("SBQOH").size),
                "SBQRS": packed(qrs, fmt.field("SBQRS").size),
                "SBDTCH": packed(cyymmdd, fmt.field("SBDTCH").size),
                "SBHRCH": packed(hhmmss, fmt.field("SBHRCH").size),
            }
            for f in fmt.fields:
                matrix[:, f.offset : f.offset + f.size] = columns[f.name]
            fh.write(matrix.tobytes())
            total += int(qoh.sum())
            negatives.append(np.flatnonzero(negative) + first_record)

            # The generator against our encoder on a few records: the file is what the AS400 writes.
            for i in [0, count - 1, *rng.sample(range(count), min(count, 20)), *np.flatnonzero(negative)[:3]]:
                expected = codec.encode(
                    {
                        "SBITEM": block_codes[i // len(mags)],
                        "SBMAG": mags[i % len(mags)],
                        "SBQOH": int(qoh[i]),
                        "SBQRS": int(qrs[i]),
                        "SBDTCH": int(cyymmdd[i]),
                        "SBHRCH": int(hhmmss[i]),
                    }
                )
                assert matrix[i].tobytes() == expected, (
                    f"generator and encoder differ at record {first_record + i + 1}"
                )
    n = items * len(mags)
    return Extract(
        path=path,
        records=n,
        size=n * layout.record_length,
        qoh_total=total,
        negatives=np.concatenate(negatives) if negatives else np.zeros(0, dtype=np.int64),
    )


# --- (b) the naive decoder -------------------------------------------------------------------------


def naive_decode(data: bytes, layout: FileLayout) -> Iterator[dict[str, object]]:
    """Field by field, in pure Python, as one would write it without thinking about speed."""
    fields = [(f.name, f.type, f.offset, f.offset + f.size, f.decimals) for f in layout.fields]
    n = layout.record_length
    for start in range(0, len(data), n):
        record = data[start : start + n]
        out: dict[str, object] = {}
        for name, kind, begin, end, decimals in fields:
            raw = record[begin:end]
            if kind == "A":
                out[name] = raw.decode(ENCODING).rstrip(" ")
                continue
            if kind == "P":
                hexa = raw.hex()
                digits, sign = hexa[:-1], hexa[-1]
                if not digits.isdigit():
                    raise ValueError(f"record {start // n + 1}, field {name}: bad packed digit")
                value = int(digits)
            else:  # S: a nibble loop
                value = 0
                for b in raw[:-1]:
                    if b >> 4 != 0xF or b & 0xF > 9:
                        raise ValueError(f"record {start // n + 1}, field {name}: bad zoned digit")
                    value = value * 10 + (b & 0xF)
                last = raw[-1]
                if last & 0xF > 9:
                    raise ValueError(f"record {start // n + 1}, field {name}: bad zoned digit")
                value = value * 10 + (last & 0xF)
                sign = "%x" % (last >> 4)
            if sign in "db":
                value = -value
            elif sign not in "fcae":
                raise ValueError(f"record {start // n + 1}, field {name}: bad sign {sign}")
            out[name] = Decimal(value).scaleb(-decimals) if decimals else value
        yield out


# --- Measuring -----------------------------------------------------------------------------------


def read_file(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


@dataclass
class Result:
    label: str
    times: list[float]
    records: int
    size: int

    @property
    def best(self) -> float:
        return min(self.times)

    def line(self) -> str:
        spread = (max(self.times) - self.best) / self.best * 100 if len(self.times) > 1 else 0.0
        return (
            f"{self.label:<44} best {self.best:8.3f} s  median {statistics.median(self.times):8.3f} s  "
            f"(+{spread:4.1f}% worst)  {self.records / self.best:>12,.0f} rec/s  "
            f"{self.size / self.best / 1e6:>8.1f} MB/s"
        )


def measure(label: str, run: Callable[[], object], repeat: int, records: int, size: int) -> Result:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        kept = run()
        times.append(time.perf_counter() - start)
        del kept
    result = Result(label, times, records, size)
    print(result.line(), flush=True)
    print(f"{'':44} runs: {', '.join(f'{t:.3f}' for t in times)} s; peak RSS so far {peak_rss_mb():,.0f} MB")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--locations", type=int, default=31, help="stores 001.. and 900 (default 31)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; the best is kept")
    parser.add_argument("--seed", type=int, default=20251122)
    args = parser.parse_args(argv)

    layout = load_layout("STKBAL")
    codec = RecordCodec(layout, CCSID)
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="bench-stkbal-") as tmp:
        path = Path(tmp) / "STKBAL_000001.DAT"
        start = time.perf_counter()
        extract = generate(path, layout, args.items, args.locations, args.seed)
        print(
            f"Generated {path.name}: {extract.records:,} records × {layout.record_length} bytes = "
            f"{extract.size / 1e6:.1f} MB ({len(extract.negatives):,} negative SBQOH) "
            f"in {time.perf_counter() - start:.1f} s; repeat {args.repeat}, best kept"
        )
        n, size = extract.records, extract.size
        print()

        def naive() -> int:
            return sum(1 for _ in naive_decode(read_file(path), layout))

        def records() -> int:
            return sum(1 for _ in codec.iter_decode(read_file(path), source=path.name))

        def columns() -> dict[str, list[object]]:
            return codec.decode_columns(read_file(path), source=path.name)  # type: ignore[return-value]

        def chunked() -> int:
            count = 0
            with open(path, "rb") as fh:
                while chunk := fh.read(CHUNK_RECORDS * layout.record_length):
                    count += len(codec.decode_columns(chunk, source=path.name)["SBITEM"])
            return count

        results = {
            "a": measure("(a) plain read (open + read)", lambda: read_file(path), args.repeat, n, size),
            "b": measure("(b) naive pure-Python decoder", naive, args.repeat, n, size),
            "c": measure("(c) RecordCodec.iter_decode", records, args.repeat, n, size),
            "d": measure("(d) RecordCodec.decode_columns", columns, args.repeat, n, size),
            "e": measure("(e) decode_columns by 65,536-record chunks", chunked, args.repeat, n, size),
        }

        # --- Same values -----------------------------------------------------------------------
        print()
        tracemalloc.start()
        cols = columns()
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        data = read_file(path)
        rng = random.Random(args.seed + 1)
        sample = sorted(
            {0, n - 1, *rng.sample(range(n), min(n, SAMPLE_SIZE)), *extract.negatives[:200].tolist()}
        )
        width = layout.record_length
        sample_bytes = b"".join(data[i * width : (i + 1) * width] for i in sample)
        expected = list(naive_decode(sample_bytes, layout))
        got_records = list(codec.iter_decode(sample_bytes))
        got_columns = [{name: cols[name][i] for name in cols} for i in sample]
        with open(path, "rb") as fh:
            loaded, chunk = -1, {}
            for k, i in enumerate(sample):
                if i // CHUNK_RECORDS != loaded:
                    loaded = i // CHUNK_RECORDS
                    fh.seek(loaded * CHUNK_RECORDS * width)
                    chunk = codec.decode_columns(fh.read(CHUNK_RECORDS * width))
                got = {name: chunk[name][i % CHUNK_RECORDS] for name in chunk}
                assert got == expected[k], f"chunked decode_columns differs at record {i + 1}"
        assert got_records == expected, "iter_decode differs from the naive decoder"
        assert got_columns == expected, "decode_columns differs from the naive decoder"
        assert len(cols["SBQOH"]) == n
        assert sum(cols["SBQOH"]) == extract.qoh_total  # type: ignore[arg-type]
        negatives = len([v for v in expected if int(v["SBQOH"]) < 0])  # type: ignore[call-overload]
        print(
            f"Same values: (c), (d) and (e) equal (b) on {len(sample):,} sampled records "
            f"({negatives} with a negative SBQOH); (d) has all {n:,} records and the SBQOH total "
            f"{extract.qoh_total:,} of the generator."
        )
        print(
            f"Memory of (d), traced on one more run: {held / 1e6:,.0f} MB held by the columns once decoded "
            f"(the file's bytes freed), {peak / 1e6:,.0f} MB at the peak (bytes + NumPy work arrays + lists)."
        )
        del cols, data

    best_d = results["d"].best
    rate_d = n / best_d
    print(f"Speed-up of (d) decode_columns over (b) the naive decoder: {results['b'].best / best_d:.1f}×")
    print(f"Speed-up of (d) over (c) iter_decode: {results['c'].best / best_d:.1f}×")
    print(f"(d) is {best_d / results['a'].best:.0f}× the plain read of the file.")
    verdict = "MET" if rate_d >= TARGET_RECORDS_PER_SECOND else "NOT MET"
    print(
        f"Target: at least {TARGET_RECORDS_PER_SECOND:,} records/s decoded to values usable by the importer: "
        f"{verdict} by (d) at {rate_d:,.0f} records/s."
    )
    print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
