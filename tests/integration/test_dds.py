"""Reading DDS sources into layouts: the contract's files, and sources that must be refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration.as400.dds import DDSError, load_layout, parse_dds, read_dds

#: The project's copy of the AS400 team's contract (docs/as400/, kept byte for byte as they wrote it).
CONTRACT_DDS = Path(__file__).resolve().parents[2] / "docs" / "as400" / "dds"

# The record lengths the contract states in each source's comment ("Format X: N octets").
CONTRACT_LENGTHS = {
    "CTLREC": {"CTLRECR": 38},
    "ITMMST": {"ITMMSTR": 73},
    "ORDACK": {"ORDACKR": 93},
    "ORDANN": {"ORDANNR": 39},
    "ORDIMP": {"ORDIMPH": 249, "ORDIMPL": 51},
    "ORDSTS": {"ORDSTSR": 91},
    "RTNIMP": {"RTNIMPR": 69},
    "STKBAL": {"STKBALR": 36},
    "STRRTN": {"STRRTNR": 58},
    "WEBORD": {"WEBORDR": 54},
}


def src(*lines: str) -> str:
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", sorted(CONTRACT_LENGTHS))
def test_every_contract_layout_has_the_record_lengths_its_source_states(name: str) -> None:
    layout = load_layout(name)

    assert {f.name: f.length for f in layout.formats} == CONTRACT_LENGTHS[name]
    assert layout.record_length == max(CONTRACT_LENGTHS[name].values())


def test_the_layouts_the_code_reads_match_the_contract() -> None:
    sources = sorted(CONTRACT_DDS.glob("*.dds"))
    assert {path.stem for path in sources} == set(CONTRACT_LENGTHS)  # every layout, none missing
    for path in sources:
        theirs, ours = read_dds(path), load_layout(path.stem)
        assert (theirs.formats, theirs.keys, theirs.keywords) == (ours.formats, ours.keys, ours.keywords), (
            path.name
        )


def test_stkbal_fields_offsets_keys_and_file_keywords() -> None:
    layout = load_layout("STKBAL")

    assert [(f.name, f.type, f.digits, f.decimals, f.offset, f.size) for f in layout.fields] == [
        ("SBITEM", "A", 15, 0, 0, 15),
        ("SBMAG", "S", 3, 0, 15, 3),
        ("SBQOH", "P", 9, 0, 18, 5),
        ("SBQRS", "P", 9, 0, 23, 5),
        ("SBDTCH", "P", 7, 0, 28, 4),
        ("SBHRCH", "P", 6, 0, 32, 4),
    ]
    assert layout.keys == ("SBITEM", "SBMAG")
    assert layout.unique


def test_text_with_doubled_quotes_and_decimals() -> None:
    layout = load_layout("ITMMST")
    price = layout.formats[0].field("IMPRIX")

    assert (price.type, price.digits, price.decimals, price.size) == ("P", 9, 2, 5)
    assert load_layout("CTLREC").formats[0].field("CTRCNT").text == "Nombre d'enregistrements"
    assert load_layout("ORDIMP").formats[0].text == "Entete de commande web"


def test_comment_lines_blank_lines_and_continued_keywords() -> None:
    layout = parse_dds(
        src(
            "     A* a comment",
            "",
            "     A          R FMT                       TEXT('A long -",
            "     A                                      text')",
            "     A            F1             5A         TEXT('one +",
            "     A                                         two')",
            "     A            F2             5S 2",
            "     A            F3             4  0",
            "     A            F4             3",
        ),
        name="X",
    )

    assert layout.formats[0].text == "A long text"
    assert [(f.name, f.type, f.size) for f in layout.fields] == [
        ("F1", "A", 5),
        ("F2", "S", 5),
        ("F3", "P", 3),  # decimals without a type: packed, as the AS400 assumes
        ("F4", "A", 3),  # neither: character
    ]
    assert layout.fields[0].text == "one two"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["     A            F1             5A"], "line 1: field F1 comes before any record format"),
        (["     A          R FMT", "     A            F1             5X"], "line 2: field F1 has data type 'X'"),
        (["     A          R FMT", "     A            F1              A"], "line 2: field F1 needs a length"),
        (["     A          R FMT", "     A            F1             5A 2"], "line 2: character field F1 cannot"),
        (["     A          R FMT", "     A            F1             3P 4"], "more decimal positions than digits"),
        (["     A          R FMT", "     A            F1             5A", "     A            F1             5A"],
         "line 3: field F1 is defined twice"),
        (["     X          R FMT"], "line 1: column 6 must hold the form type A"),
        (["     A          R FMT", "     A            F1             5A", "     A          K NOPE"],
         "key NOPE is not a field"),
        (["     A          R FMT"], "record format FMT has no fields"),
        (["     A* only comments"], "no record format"),
        (["     A          R FMT", "     A            F1             5A         TEXT('unclosed"],
         "line 2: cannot read the keywords"),
        (["     A          R FMT", "     A            F1             5A         TEXT('goes on -"],
         "continues past the end"),
        (["     A          Q FMT"], "line 1: column 17 holds 'Q'"),
        (["     A          R FMT", "     A            F1            99P 0"], "has 99 digits"),
    ],
)  # fmt: skip
def test_a_line_it_cannot_read_is_an_error_naming_file_and_line(lines: list[str], message: str) -> None:
    with pytest.raises(DDSError, match="BAD.dds") as excinfo:
        parse_dds(src(*lines), name="BAD", source="BAD.dds")

    assert message in str(excinfo.value)


def test_several_formats_must_each_start_with_a_one_character_type_field() -> None:
    with pytest.raises(DDSError, match="format B must start with a 1-character type field"):
        parse_dds(
            src(
                "     A          R A",
                "     A            T              1A",
                "     A          R B",
                "     A            X              2A",
            ),
            name="M",
        )


def test_an_unknown_layout_names_the_ones_it_knows() -> None:
    with pytest.raises(DDSError, match="no DDS source for NOPE .*STKBAL"):
        load_layout("NOPE")


def test_a_site_can_point_the_settings_at_its_own_dds(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "STKBAL.dds").write_text(
        src(
            "     A          R STKBALR",
            "     A            SBITEM        20A",
            "     A            SBQOH          9P 0",
        )
    )
    settings.AS400_DDS_DIR = tmp_path

    assert load_layout("STKBAL").record_length == 25
