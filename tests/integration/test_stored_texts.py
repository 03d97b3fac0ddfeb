"""Stored texts: written in English, read in the reader's language (integration.core.stored_texts).

The templates are the real ones of the code (a call's last error, an order's history): their French
is the catalogues', compiled by bin/compile-translations like the admin's.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from integration.core.stored_texts import StoredText, stored_text_translated, stored_texts_translated
from integration.shopify.calls import GIVEN_UP, REFUSED, UNAVAILABLE
from orders.outbox_actions import CANCELLED, CANCELLED_NOTE
from orders.resend import RESENT, RESENT_LOST
from shopify_channel.fulfilment import NOTHING_TO_SHIP, UNITS_NOT_FOUND


def test_a_stored_text_is_english_and_read_in_french_with_its_values() -> None:
    stored = RESENT_LOST.format(by="ops", why="lost: see ticket 12", lost="A000042")

    assert stored == "sent again to the AS400 by ops: lost: see ticket 12 (the AS400 had lost its order A000042)"
    with translation.override("fr"):
        assert stored_text_translated(stored) == (
            "renvoyée à l'AS400 par ops : lost: see ticket 12 (l'AS400 avait perdu sa commande A000042)"
        )
    with translation.override("en"):
        assert stored_text_translated(stored) == stored


def test_the_template_with_the_most_words_wins_when_two_match() -> None:
    # RESENT's pattern matches RESENT_LOST's text too (its {why} would swallow the rest)
    plain = RESENT.format(by="ops", why="again")
    lost = RESENT_LOST.format(by="ops", why="again", lost="A1")
    noted = CANCELLED_NOTE.format(kind="ORDIMP", pk=3, who="ops", note="done by hand")

    with translation.override("fr"):
        assert stored_text_translated(plain) == "renvoyée à l'AS400 par ops : again"
        assert stored_text_translated(lost) == "renvoyée à l'AS400 par ops : again (l'AS400 avait perdu sa commande A1)"
        assert stored_text_translated(noted) == "message ORDIMP n°3 annulé par ops : done by hand"
        assert stored_text_translated(CANCELLED.format(kind="ORDIMP", pk=3, who="ops")) == (
            "message ORDIMP n°3 annulé par ops"
        )


def test_a_parameter_named_as_a_text_is_translated_too_and_the_others_are_kept_as_written() -> None:
    # given: a call given up after a refusal whose reason is a stored text of fulfilment's
    reason = UNITS_NOT_FOUND.format(line=1, sku="SKU-A", units=2)
    stored = GIVEN_UP.format(error=REFUSED.format(reason=reason), attempts=8)
    # and: a note that happens to look like another template ("placed by {client}")
    noted = CANCELLED_NOTE.format(kind="ORDIMP", pk=3, who="ops", note="placed by mistake")

    with translation.override("fr"):
        assert stored_text_translated(stored) == (
            "refusé : ligne 1 (SKU-A) : 2 unité(s) introuvable(s) (abandonné après 8 tentatives)"
        )
        assert stored_text_translated(UNAVAILABLE.format(error="HTTP 503")) == "Shopify indisponible : HTTP 503"
        assert stored_text_translated(noted) == "message ORDIMP n°3 annulé par ops : placed by mistake"


def test_a_text_no_template_matches_is_shown_as_it_is() -> None:
    with translation.override("fr"):
        assert stored_text_translated("IN/ is not writable") == "IN/ is not writable"
        assert stored_text_translated("") == ""
        # cut short (a column's length) inside its words, a text no longer matches: shown as written
        cut = RESENT.format(by="ops", why="x")[:20]
        assert stored_text_translated(cut) == cut == "sent again to the AS"


def test_a_result_is_translated_string_by_string() -> None:
    result = {"skipped": NOTHING_TO_SHIP.format(), "short": [UNITS_NOT_FOUND.format(line=2, sku="B", units=1)],
              "units": 0, "job": None}  # fmt: skip

    with translation.override("fr"):
        assert stored_texts_translated(result) == {
            "skipped": "rien à expédier : Shopify ne tient plus ces unités comme à expédier",
            "short": ["ligne 2 (B) : 1 unité(s) introuvable(s)"],
            "units": 0,
            "job": None,
        }


def test_a_template_without_words_or_with_an_unknown_text_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="needs words"):
        StoredText("{a}{b}")
    with pytest.raises(ValueError, match="has no parameter note"):
        StoredText("refused: {reason}", texts=("note",))
