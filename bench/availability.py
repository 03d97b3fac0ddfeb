"""Availability under a storefront's load: ``GET /api/v1/availability/`` for 20 SKUs at a fixed rate.

    DATABASE_URL=postgres://user@host:port/name .venv/bin/python bench/availability.py [--rate 200] [--seconds 20] [--repeat 3]

In a database of its own: a simulated AS400's catalogue and stock applied (300 items, the 30 stores
and the warehouse, 5 stores doing click and collect), every category live, a storefront client, and
gunicorn serving the platform on a loopback port (``--workers``, 4 by default).

The load is open: requests are started on a fixed schedule, ``--rate`` a second, each with 20
SKUs drawn from the catalogue, whatever the answers' speed (a closed loop would slow down with
the server and hide its queueing). Each latency is counted from the moment the request was due,
not from when a thread got to send it, so a server that falls behind shows it. Printed per run:
the rate reached, p50/p95/p99 and the worst; then best and median of the runs.

Beside it, the floor measured in the same run: the same 20 SKUs' stock rows read by one plain
psycopg query on a kept connection, at the same rate, in this process (what the database alone
costs an answer); and the platform's answer without HTTP (the view called in this process), so
that the figures say where the time goes.

Aim (issue 15): p95 under 50 ms at 200 requests a second, through gunicorn, on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "b" * 40)  # a bench, not a deployment
os.environ.setdefault("DJANGO_HTTPS", "false")  # plain HTTP on loopback

import django

django.setup()

import psycopg  # noqa: E402
from _common import bench_database, database_url, gunicorn, pct, platform_seeded  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from integration.storefront.clients import SCOPES, storefront_client_create  # noqa: E402
from inventory.models import ItemMapping, Location  # noqa: E402

SKUS_PER_REQUEST = 20


def open_load(rate: float, seconds: float, call, threads: int = 64) -> tuple[list[float], int, float]:  # type: ignore[no-untyped-def]
    """Start ``call(n)`` ``rate`` times a second for ``seconds``; latencies from each call's due time."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    count = int(rate * seconds)
    start = time.perf_counter() + 0.2

    def one(n: int) -> None:
        nonlocal errors
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        ok = call(n)
        done = time.perf_counter()
        with lock:
            latencies.append(done - due)
            if not ok:
                errors += 1

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - start
    return latencies, errors, count / elapsed


def request_bytes(host: str, token: str, skus: list[str]) -> bytes:
    """One ``GET /api/v1/availability/`` for these SKUs, as bytes on the wire."""
    query = urlencode([("sku", s) for s in skus])
    return (
        f"GET /api/v1/availability/?{query} HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def http_get(address: tuple[str | None, int | None], request: bytes) -> tuple[int, bytes]:
    """Send a prepared request on a new connection and read the answer to its end.

    A plain socket, not an HTTP library: the load generator shares the machine's 2 cores with
    gunicorn and PostgreSQL, and httpx's own work per request was a visible share of them.
    gunicorn's sync workers close the connection after each answer (they keep none alive), so
    the answer ends where the stream does.
    """
    with socket.create_connection(address, timeout=30) as s:  # type: ignore[arg-type]
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head[9:12]), body


def line(label: str, latencies: list[float], rate: float, errors: int) -> str:
    return (
        f"  {label:<34} {rate:6.1f} req/s  p50 {pct(latencies, 50):6.1f} ms  p95 {pct(latencies, 95):6.1f} ms  "
        f"p99 {pct(latencies, 99):6.1f} ms  worst {max(latencies) * 1000:7.1f} ms  errors {errors}"
    )


def summary(label: str, runs: list[tuple[list[float], int, float]]) -> None:
    p95s = [pct(latencies, 95) for latencies, _, _ in runs]
    print(
        f"  {label:<34} p95 best {min(p95s):6.1f} ms, median {statistics.median(p95s):6.1f} ms over {len(runs)} runs"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200.0, help="requests a second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    args = parser.parse_args()
    with bench_database("bench_availability") as tmp:
        return run(args, tmp)


def run(args: argparse.Namespace, tmp: Path) -> int:
    platform_seeded(tmp).close()
    skus = sorted(ItemMapping.objects.filter(product__status="A").values_list("sku", flat=True))
    selling = [*sorted(Location.objects.filter(click_and_collect=True).values_list("code", flat=True)), 900]
    _, token = storefront_client_create(name="bench", scopes=SCOPES, rate_limit=1_000_000)
    rng = random.Random(7)
    asks = [rng.sample(skus, SKUS_PER_REQUEST) for _ in range(int(args.rate * args.seconds) + 1)]
    dsn = database_url()
    print(
        f"PostgreSQL {connection.pg_version}, gunicorn {args.workers} workers, {os.cpu_count()} CPUs; "
        f"{len(skus)} SKUs, {SKUS_PER_REQUEST} a request, {len(selling)} selling locations; "
        f"{args.rate:.0f} requests a second for {args.seconds:.0f} s, {args.repeat} runs\n"
    )

    # The floor: the stock rows of the same 20 SKUs, one plain query on a kept connection.
    floor_runs = []
    with psycopg.connect(dsn, autocommit=True) as raw:
        raw_lock = threading.Lock()
        query = (
            "SELECT m.sku, s.location_id, s.on_hand, s.promised, s.in_flight, s.reserved FROM inventory_itemmapping m "
            "JOIN inventory_stocklevel s ON s.product_id = m.product_id WHERE m.sku = ANY(%s) AND s.location_id = ANY(%s)"
        )

        def floor_call(n: int) -> bool:
            with raw_lock:  # one connection, as one worker has
                return raw.execute(query, (asks[n % len(asks)], selling)).fetchall() is not None

        for _ in range(args.repeat):
            floor_runs.append(open_load(args.rate, args.seconds, floor_call))
            print(line("floor: one psycopg query", floor_runs[-1][0], floor_runs[-1][2], floor_runs[-1][1]))

    # The platform's answer without HTTP: the view through Django's test client, in this process.
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    in_process = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        n = 500
        for i in range(n):
            r = client.get("/api/v1/availability/", {"sku": asks[i % len(asks)]})
            assert r.status_code == 200, r.content[:200]
        in_process.append((time.perf_counter() - started) / n)
    print(
        f"  {'in process, no HTTP, one at a time':<34} best {min(in_process) * 1000:6.2f} ms, "
        f"median {statistics.median(in_process) * 1000:6.2f} ms an answer"
    )
    connection.close()

    runs = []
    client_cpu: list[float] = []
    with gunicorn(args.workers) as base:
        address = urlsplit(base)
        requests = [request_bytes(address.netloc, token, ask) for ask in asks]
        wrong: list[str] = []

        def call(n: int) -> bool:
            status, body = http_get((address.hostname, address.port), requests[n % len(requests)])
            if status != 200 or len(json.loads(body)["results"]) != SKUS_PER_REQUEST:
                wrong.append(f"{status} {body[:100]!r}")
                return False
            return True

        for n in range(50):  # every worker warm
            call(n)
        for _ in range(args.repeat):
            cpu = time.process_time()
            runs.append(open_load(args.rate, args.seconds, call))
            client_cpu.append((time.process_time() - cpu) / len(runs[-1][0]))
            print(line("through gunicorn", runs[-1][0], runs[-1][2], runs[-1][1]))
    print(
        f"  the load generator's own CPU, on the same {os.cpu_count()} cores: "
        f"median {statistics.median(client_cpu) * 1000:.2f} ms a request"
    )
    print()
    summary("floor: one psycopg query", floor_runs)
    summary("through gunicorn", runs)
    best = min(pct(latencies, 95) for latencies, _, _ in runs)
    errors = sum(e for _, e, _ in runs)
    print(f"\naim: p95 under 50 ms at {args.rate:.0f} req/s: {'met' if best < 50 and not errors else 'NOT met'} "
          f"(best run {best:.1f} ms, {errors} wrong answers)")  # fmt: skip
    for w in sorted(set(wrong))[:5]:
        print(f"  wrong: {w}")
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
