"""The record codec, against the contract's byte rules and by property.

Bytes in the fixed tests are written out by hand from "Encoding of a record" in the contract, not
produced by our encoder, so the decoder is held to the contract rather than to itself.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration.as400.codec import (
    PARIS,
    EncodeError,
    RecordCodec,
    RecordError,
    fold_text,
    from_datetime,
    to_datetime,
)
from integration.as400.dds import Field, load_layout, parse_dds

LAYOUTS = ["CTLREC", "ITMMST", "ORDACK", "ORDANN", "ORDIMP", "ORDSTS", "RTNIMP", "STKBAL", "STRRTN", "WEBORD"]
BLANKS = b"\x40"


def dds_field_line(name: str, spec: str) -> str:
    """A DDS field line in its columns, from a spec such as '3S 0', '9P 2' or '6A'."""
    size_type, _, decimals = spec.partition(" ")
    return f"     A{'':12}{name:<10} {size_type[:-1]:>5}{size_type[-1]}{decimals:>2}"


def one_field_codec(spec: str, ccsid: int = 297) -> RecordCodec:
    """A codec for a one-field layout whose field VALUE has the given spec."""
    return RecordCodec(
        parse_dds(f"     A          R FMT\n{dds_field_line('VALUE', spec)}\n", name="T"), ccsid
    )


# --- The contract's examples --------------------------------------------------------------


def test_zoned_minus_42_in_3s0_is_f0f4d2() -> None:
    codec = one_field_codec("3S 0")

    assert codec.encode({"VALUE": -42}) == bytes.fromhex("F0F4D2")
    assert codec.decode(bytes.fromhex("F0F4D2")) == {"VALUE": -42}


def test_packed_minus_1234_in_9p0_is_000001234d() -> None:
    codec = one_field_codec("9P 0")

    assert codec.encode({"VALUE": -1234}) == bytes.fromhex("000001234D")
    assert codec.decode(bytes.fromhex("000001234D")) == {"VALUE": -1234}


def test_implied_decimals_9p2_holding_1999_means_19_99() -> None:
    codec = one_field_codec("9P 2")

    assert codec.decode(bytes.fromhex("000001999F")) == {"VALUE": Decimal("19.99")}
    assert codec.encode({"VALUE": Decimal("19.99")}) == bytes.fromhex("000001999F")
    assert codec.encode({"VALUE": "19.99"}) == bytes.fromhex("000001999F")
    assert codec.encode({"VALUE": 19}) == bytes.fromhex("000001900F")


@pytest.mark.parametrize(("sign", "expected"), [("F", 7), ("C", 7), ("A", 7), ("E", 7), ("D", -7), ("B", -7)])
def test_a_reader_accepts_every_sign_the_contract_lists(sign: str, expected: int) -> None:
    assert one_field_codec("3P 0").decode(bytes.fromhex(f"007{sign}")) == {"VALUE": expected}
    assert one_field_codec("2S 0").decode(bytes.fromhex(f"F0{sign}7")) == {"VALUE": expected}


@pytest.mark.parametrize("raw", ["0070", "0079", "00A7F"[:4], "0A7F"])
def test_packed_with_an_unknown_sign_or_a_digit_above_9_is_refused_naming_field_and_bytes(raw: str) -> None:
    codec = one_field_codec("3P 0")

    with pytest.raises(RecordError) as excinfo:
        codec.decode(bytes.fromhex(raw), recno=12, source="X_000001.DAT")

    message = str(excinfo.value)
    assert "X_000001.DAT, record 12, field VALUE" in message
    assert f"X'{raw.upper()}'" in message


@pytest.mark.parametrize("raw", ["F0F47", "F0FAF4", "40F0F4", "F0F4F4"[:4] + "94"])
def test_zoned_with_a_bad_zone_sign_or_digit_is_refused(raw: str) -> None:
    with pytest.raises(RecordError, match="field VALUE: is not a valid zoned decimal"):
        one_field_codec("3S 0").decode(bytes.fromhex(raw.ljust(6, "0")[:6]))


def test_the_writer_uses_f_and_d_as_signs() -> None:
    assert one_field_codec("5P 0").encode({"VALUE": 5}) == bytes.fromhex("00005F")
    assert one_field_codec("5P 0").encode({"VALUE": -5}) == bytes.fromhex("00005D")
    assert one_field_codec("2S 0").encode({"VALUE": 5}) == bytes.fromhex("F0F5")


def test_an_even_digit_count_keeps_the_spare_leading_nibble_at_zero() -> None:
    codec = one_field_codec("6P 0")  # 4 bytes, room for 7 digits, 6 allowed

    assert codec.encode({"VALUE": 235959}) == bytes.fromhex("0235959F")
    with pytest.raises(RecordError, match="VALUE"):
        codec.decode(bytes.fromhex("1235959F"))
    with pytest.raises(RecordError, match="VALUE"):
        codec.decode_columns(bytes.fromhex("1235959F"))


def test_a_hand_made_stkbal_record_decodes_to_the_right_values() -> None:
    # SBITEM 15A "ÉTÉ-42" (É is X'71' in CCSID 297), SBMAG 3S0 = 900,
    # SBQOH 9P0 = -3, SBQRS 9P0 = 12, SBDTCH 7P0 = 1251122, SBHRCH 6P0 = 093015
    item = bytes.fromhex("71E371") + "-42".encode("cp297") + BLANKS * 9
    record = (
        item
        + bytes.fromhex("F9F0F0")
        + bytes.fromhex("000000003D")
        + bytes.fromhex("000000012F")
        + bytes.fromhex("1251122F")
        + bytes.fromhex("0093015F")
    )
    assert len(record) == 36

    values = RecordCodec.for_file("STKBAL", 297).decode(record)

    assert values == {
        "SBITEM": "ÉTÉ-42",
        "SBMAG": 900,
        "SBQOH": -3,
        "SBQRS": 12,
        "SBDTCH": 1251122,
        "SBHRCH": 93015,
    }


def test_ccsid_297_places_french_letters_where_the_code_page_says() -> None:
    codec = one_field_codec("3A")

    assert codec.encode({"VALUE": "é"}) == bytes.fromhex("C04040")
    assert codec.encode({"VALUE": "à@"}) == bytes.fromhex("7C4440")
    assert codec.decode(bytes.fromhex("C0C14040"[:6])) == {"VALUE": "éA"}


def test_ccsid_1147_and_37_are_selectable() -> None:
    assert one_field_codec("3A", 1147).encode({"VALUE": "€"}) == bytes.fromhex("9F4040")
    assert one_field_codec("3A", 37).encode({"VALUE": "é"}) == bytes.fromhex("514040")
    with pytest.raises(EncodeError, match=r"'€' \(U\+20AC\) has no place in CCSID 297"):
        one_field_codec("3A", 297).encode({"VALUE": "€"})
    with pytest.raises(ValueError, match="CCSID 500 is not supported"):
        one_field_codec("3A", 500)


def test_text_is_left_aligned_padded_with_x40_and_stripped_of_trailing_blanks_only() -> None:
    codec = one_field_codec("6A")

    assert codec.encode({"VALUE": " AB"}) == bytes.fromhex("40C1C2404040")
    assert codec.decode(bytes.fromhex("40C1C2404040")) == {"VALUE": " AB"}


# --- Multi-format files ------------------------------------------------------------------------


def test_ordimp_records_are_all_249_bytes_and_the_first_byte_selects_the_format() -> None:
    codec = RecordCodec.for_file("ORDIMP", 297)
    header = codec.encode({"OHTYPE": "H", "OHWEBN": "WEB-1", "OHTOTL": Decimal("39.98"), "OHNBL": 1})
    line = codec.encode({"OLTYPE": "L", "OLWEBN": "WEB-1", "OLLIGN": 1, "OLITEM": "ART1", "OLQTE": 2})

    assert len(header) == len(line) == 249
    assert header[:1] == "H".encode("cp297")
    assert line[:1] == "L".encode("cp297")
    assert line[51:] == BLANKS * (249 - 51)
    records = list(codec.iter_decode(header + line))
    assert records[0]["OHTOTL"] == Decimal("39.98")
    assert records[1] == {
        "OLTYPE": "L",
        "OLWEBN": "WEB-1",
        "OLLIGN": 1,
        "OLITEM": "ART1",
        "OLQTE": 2,
        "OLPRIX": Decimal("0.00"),
        "OLMAG": 0,
    }


def test_an_unknown_record_type_or_garbage_after_a_short_format_is_refused() -> None:
    codec = RecordCodec.for_file("ORDIMP", 297)
    line = codec.encode({"OLTYPE": "L", "OLWEBN": "W"})

    with pytest.raises(RecordError, match=r"record 1, field OHTYPE: the first byte selects no record format"):
        codec.decode("X".encode("cp297") + line[1:], recno=1)
    with pytest.raises(
        RecordError, match="format ORDIMPL is 51 bytes; the rest of the record must be blanks"
    ):
        codec.decode(line[:100] + b"\xf1" + line[101:])
    with pytest.raises(EncodeError, match="give format= or one of OHTYPE='H', OLTYPE='L'"):
        codec.encode({"OHWEBN": "W"})


# --- Encoding refuses what does not fit ------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"SBMAG": 1000}, "field SBMAG: 1000 does not fit in 3 digits"),
        ({"SBQOH": "douze"}, "field SBQOH: 'douze' is not a number"),
        ({"SBQOH": 1.5}, "field SBQOH: floats are refused"),
        ({"SBQOH": Decimal("1.5")}, "field SBQOH: 1.5 has more than 0 decimal places"),
        ({"SBQOH": True}, "field SBQOH: True is not a number"),
        ({"SBQOH": Decimal("NaN")}, "field SBQOH: Decimal\\('NaN'\\) is not a finite number"),
        ({"SBITEM": "X" * 16}, "field SBITEM: 'XXXXXXXXXXXXXXXX' is 16 characters, the field holds 15"),
        ({"SBITEM": "œuf"}, "field SBITEM: character 'œ'"),
        ({"SBITEM": ["x"]}, "field SBITEM: \\['x'\\] is not text"),
        ({"NOPE": 1}, "field NOPE: not in format STKBALR"),
    ],
)
def test_encoding_refuses_what_does_not_fit_naming_the_field(values: dict[str, object], message: str) -> None:
    with pytest.raises(EncodeError, match=message):
        RecordCodec.for_file("STKBAL", 297).encode(values)


def test_free_text_can_be_folded_and_cut_but_identifiers_never_are() -> None:
    codec = RecordCodec.for_file("ORDIMP", 297)
    values = {
        "OHTYPE": "H",
        "OHWEBN": "CMD-2026-0001",
        "OHNOM": "Œuvre-Łukasiewicz’s — Ødegård Straße",
        "OHPRN": "Zoë",
    }

    record = codec.decode(codec.encode(values, fold={"OHNOM", "OHPRN"}, cut={"OHNOM"}))

    assert record["OHNOM"] == "OEuvre-Lukasiewicz's - Ødegård"  # cut at 30 after folding; Ø, å in 297
    assert record["OHPRN"] == "Zoë"  # the code page holds ë: kept as it is
    with pytest.raises(EncodeError, match="OHWEBN: character 'œ'"):
        codec.encode({**values, "OHWEBN": "CMD-œ"}, fold={"OHNOM"}, cut={"OHNOM"})
    with pytest.raises(EncodeError, match="OHNOM: .* is 37 characters, the field holds 30"):
        codec.encode(values, fold={"OHNOM"})


def test_folding_only_touches_what_the_code_page_lacks() -> None:
    assert fold_text("Crème brûlée à Nîmes, ça", 297) == "Crème brûlée à Nîmes, ça"
    assert fold_text("œ Œ Ł ł ’ “x” … ő Ș", 297) == 'oe OE L l \' "x" ... o S'
    assert fold_text("prix 5 €", 297) == "prix 5 EUR"
    assert fold_text("prix 5 €", 1147) == "prix 5 €"
    assert fold_text("Жуков", 297) == "Жуков"  # nothing sensible to fold to: encoding refuses it


def test_a_name_the_code_page_cannot_hold_is_refused_even_when_folding() -> None:
    with pytest.raises(EncodeError, match=r"OHNOM: character 'Ж' \(U\+0416\) has no place in CCSID 297"):
        RecordCodec.for_file("ORDIMP", 297).encode({"OHTYPE": "H", "OHNOM": "Жуков"}, fold=True)


@pytest.mark.parametrize("ccsid", [297, 1147, 37])
@pytest.mark.parametrize(
    "text", ["Du\npont", "Du\r\npont", "Du\tpont", "Du\x07pont", "Du\x85pont", "Du\u200bpont"]
)
def test_a_control_character_is_refused_in_any_field_folded_or_not(ccsid: int, text: str) -> None:
    # EBCDIC has bytes for CR, LF, tab...: written, they would come back as something else, or
    # end a line for whoever reads the file as text.
    codec = RecordCodec.for_file("ORDIMP", ccsid)

    for fold in (False, True):
        with pytest.raises(EncodeError, match=r"OHNOM: character .* is a control or formatting character"):
            codec.encode({"OHTYPE": "H", "OHNOM": text}, fold=fold, cut=True)


@pytest.mark.parametrize("ccsid", [297, 1147, 37])
def test_the_identifier_alphabet_survives_a_round_trip_in_every_code_page(ccsid: int) -> None:
    codec = RecordCodec.for_file("ORDIMP", ccsid)
    alphabet = string.ascii_letters + string.digits + "._-"

    for start in range(0, len(alphabet), 20):
        number = alphabet[start : start + 20]
        assert codec.decode(codec.encode({"OHTYPE": "H", "OHWEBN": number}))["OHWEBN"] == number


# --- Files --------------------------------------------------------------------------------------


def test_a_file_that_is_not_a_whole_number_of_records_is_refused_before_any_record() -> None:
    codec = RecordCodec.for_file("STKBAL", 297)
    data = codec.encode({"SBITEM": "A"}) * 3

    for decode in (lambda d: list(codec.iter_decode(d, source="STKBAL_000004.DAT")), codec.decode_columns):
        with pytest.raises(RecordError, match="107 bytes is not a whole number of 36-byte STKBAL records"):
            decode(data[:-1])


def test_the_column_decoder_names_the_first_bad_record() -> None:
    codec = RecordCodec.for_file("STKBAL", 297)
    good = codec.encode({"SBITEM": "A", "SBQOH": 5})
    bad_quantity = good[:22] + b"\x57" + good[23:]  # SBQOH's last byte: digit 5, sign 7
    bad_location = good[:16] + b"\x7a" + good[17:]  # SBMAG's middle byte: zone 7

    with pytest.raises(RecordError, match=r"^F.DAT, record 3, field SBQOH: .* \(bytes X'0000000057'\)$"):
        codec.decode_columns(good + good + bad_quantity + bad_location, source="F.DAT")


def test_an_empty_file_has_no_records() -> None:
    codec = RecordCodec.for_file("STKBAL", 297)

    assert list(codec.iter_decode(b"")) == []
    assert codec.decode_columns(b"")["SBITEM"] == []


# --- Dates ------------------------------------------------------------------------------------


def test_cyymmdd_century_form_and_zero_meaning_no_date() -> None:
    assert to_datetime(1251122, 103000) == datetime(2025, 11, 22, 10, 30, tzinfo=PARIS)
    assert to_datetime(991231, 235959) == datetime(1999, 12, 31, 23, 59, 59, tzinfo=PARIS)
    assert to_datetime(0, 0) is None
    assert from_datetime(datetime(2025, 11, 22, 9, 30, tzinfo=UTC)) == (1251122, 103000)
    with pytest.raises(ValueError, match="1251332 is not a date"):
        to_datetime(1251332, 0)
    with pytest.raises(ValueError, match="236000 is not a time"):
        to_datetime(1251122, 236000)


def test_the_hour_that_does_not_exist_is_read_as_if_the_clocks_had_not_moved() -> None:
    moment = to_datetime(1260329, 23000)  # 29 March 2026, 02:30: clocks jump from 02:00 to 03:00

    assert moment is not None
    assert moment.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (moment.hour, moment.minute, moment.utcoffset().total_seconds()) == (3, 30, 7200)  # type: ignore[union-attr]


def test_the_hour_that_happens_twice_is_read_as_its_first_occurrence_in_summer_time() -> None:
    moment = to_datetime(1261025, 23000)  # 25 October 2026, 02:30 happens at 00:30 and 01:30 UTC

    assert moment is not None
    assert moment.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # and the same pair always gives the same instant
    assert to_datetime(1261025, 23000) == moment


def test_from_datetime_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        from_datetime(datetime(2026, 1, 1))


# --- Properties -------------------------------------------------------------------------------


def field_values(f: Field, charset: str) -> st.SearchStrategy[object]:
    if f.type == "A":
        return st.text(alphabet=charset, max_size=f.size).map(lambda s: s.rstrip(" "))
    bound = 10**f.digits - 1
    ints = st.integers(min_value=-bound, max_value=bound)
    if f.decimals:
        return ints.map(lambda i: Decimal(i).scaleb(-f.decimals))
    return ints


CHARSET_297 = "".join(sorted(c for c in bytes(range(0x40, 0x100)).decode("cp297") if c.isprintable()))


@st.composite
def records(draw: st.DrawFn, name: str) -> dict[str, object]:
    layout = load_layout(name)
    fmt = draw(st.sampled_from(layout.formats))
    values = {f.name: draw(field_values(f, CHARSET_297)) for f in fmt.fields}
    if layout.is_multi_format:
        values[fmt.fields[0].name] = fmt.name[-1]
    return values


@pytest.mark.parametrize("name", LAYOUTS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_every_layout(name: str, data: st.DataObject) -> None:
    codec = RecordCodec.for_file(name, 297)
    values = data.draw(st.lists(records(name), min_size=1, max_size=5))

    encoded = codec.encode_many(values)

    assert len(encoded) == codec.record_length * len(values)
    decoded = list(codec.iter_decode(encoded))
    assert decoded == values
    if not codec.layout.is_multi_format:
        columns = codec.decode_columns(encoded)
        assert [{k: columns[k][i] for k in columns} for i in range(len(values))] == decoded


@settings(max_examples=300, deadline=None)
@given(blob=st.binary(min_size=36, max_size=36 * 4))
def test_arbitrary_bytes_either_decode_or_are_refused_and_both_decoders_agree(blob: bytes) -> None:
    codec = RecordCodec.for_file("STKBAL", 297)

    try:
        expected: list[dict[str, object]] | str = list(codec.iter_decode(blob))
    except RecordError as exc:
        expected = f"{exc.record}:{exc.field}"
    try:
        columns = codec.decode_columns(blob)
        got: list[dict[str, object]] | str = [
            {k: columns[k][i] for k in columns} for i in range(len(blob) // 36)
        ]
    except RecordError as exc:
        got = f"{exc.record}:{exc.field}"

    assert got == expected  # the same values, or the same record and field refused
