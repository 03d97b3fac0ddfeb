"""Tools for tests that drive the simulator: write IN/ pairs as the platform would, read OUT/.

Tests of the simulator (and of the platform against it) use them to put an ORDIMP, ORDANN or
RTNIMP into IN/ (encoded by the codec, the .OK computed by :func:`integration.as400.control.control_for`,
written by :func:`integration.as400.files.write_pair`) and to decode what the simulator wrote to OUT/.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from integration.as400.codec import PARIS, RecordCodec
from integration.as400.control import ControlRecord, control_for
from integration.as400.files import write_pair
from integration.as400.simulator.config import SimulatorConfig
from integration.as400.simulator.engine import Simulator


def drop(
    config: SimulatorConfig,
    file: str,
    seq: int,
    records: list[dict[str, Any]],
    *,
    with_ok: bool = True,
    at: datetime | None = None,
) -> Path:
    """Write a pair into IN/ (the .OK computed on the data); without ``with_ok``, only the .DAT."""
    codec = RecordCodec.for_file(file, config.ccsid)
    data = codec.encode_many(records)
    control = control_for(file, data, seq=seq, kind="D", at=at or datetime.now(tz=PARIS), ccsid=config.ccsid)
    if with_ok:
        dat, _ = write_pair(config.in_dir, file, seq, data, control.encode(config.ccsid))
        return dat
    dat = config.in_dir / f"{file}_{seq:06d}.DAT"
    dat.write_bytes(data)
    return dat


def drop_raw(config: SimulatorConfig, file: str, seq: int, data: bytes, control: ControlRecord) -> Path:
    """Write a pair whose .DAT and .OK are given as they are (to make them disagree on purpose)."""
    dat, _ = write_pair(config.in_dir, file, seq, data, control.encode(config.ccsid))
    return dat


def order_records(
    webn: str,
    lines: list[tuple[str, int, int]],
    *,
    mode: str = "D",
    pickup: int = 900,
    price: Decimal = Decimal("9.90"),
) -> list[dict[str, Any]]:
    """An ORDIMP H record and its L records; ``lines`` are (item, quantity, picking location)."""
    header = {
        "OHTYPE": "H", "OHWEBN": webn, "OHDATE": 1251124, "OHTIME": 95500, "OHMODE": mode, "OHMAGL": pickup,
        "OHNOM": "Lefèvre", "OHPRN": "Hélène", "OHADR1": "12 rue de la Paix", "OHCP": "69003",
        "OHVIL": "Lyon", "OHPAYS": "FR", "OHTEL": "0612345678", "OHMAIL": "helene@example.fr",
        "OHTOTL": price * sum(q for _, q, _ in lines), "OHNBL": len(lines),
    }  # fmt: skip
    records: list[dict[str, Any]] = [header]
    for number, (item, quantity, location) in enumerate(lines, start=1):
        records.append(
            {"OLTYPE": "L", "OLWEBN": webn, "OLLIGN": number, "OLITEM": item, "OLQTE": quantity,
             "OLPRIX": price, "OLMAG": location}
        )  # fmt: skip
    return records


def out_names(config: SimulatorConfig, file: str) -> list[str]:
    """The stems of OUT/'s complete pairs of ``file`` (``STKBAL_000003``), in sequence order."""
    return sorted(p.stem for p in config.out_dir.glob(f"{file}_*.OK"))


def read_out(config: SimulatorConfig, file: str, seq: int) -> list[dict[str, Any]]:
    """The records of one OUT/ file, decoded by the codec."""
    data = (config.out_dir / f"{file}_{seq:06d}.DAT").read_bytes()
    return list(RecordCodec.for_file(file, config.ccsid).iter_decode(data))


def read_control(config: SimulatorConfig, file: str, seq: int) -> ControlRecord:
    """The control record of one OUT/ file."""
    return ControlRecord.decode((config.out_dir / f"{file}_{seq:06d}.OK").read_bytes(), config.ccsid)


def latest_seq(config: SimulatorConfig, file: str) -> int:
    """The highest sequence number of ``file`` in OUT/ (0 when there is none)."""
    names = out_names(config, file)
    return int(names[-1].rsplit("_", 1)[1]) if names else 0


def latest(config: SimulatorConfig, file: str) -> list[dict[str, Any]]:
    """The records of the newest OUT/ file of that name."""
    seq = latest_seq(config, file)
    if seq == 0:
        raise FileNotFoundError(f"no {file} in {config.out_dir}")
    return read_out(config, file, seq)


def stock(sim: Simulator, item: str, location: int) -> tuple[int, int]:
    """(SBQOH, SBQRS) of one balance, straight from the simulator's table."""
    row = sim.conn.execute(
        "SELECT SBQOH, SBQRS FROM STKBAL WHERE SBITEM = ? AND SBMAG = ?", (item, location)
    ).fetchone()
    return int(row[0]), int(row[1])


def item_with_stock(sim: Simulator, location: int, at_least: int = 5, *, skip: int = 0) -> str:
    """An active item with at least ``at_least`` available at ``location`` (the ``skip``-th such)."""
    row = sim.conn.execute(
        "SELECT s.SBITEM FROM STKBAL s JOIN ITMMST i ON i.IMITEM = s.SBITEM WHERE s.SBMAG = ? "
        "AND i.IMSTAT = 'A' AND s.SBQOH - s.SBQRS >= ? ORDER BY s.SBITEM LIMIT 1 OFFSET ?",
        (location, at_least, skip),
    ).fetchone()
    if row is None:
        raise LookupError(f"no active item with {at_least} available at {location:03d}")
    return str(row[0])
