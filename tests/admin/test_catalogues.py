"""The French catalogues are complete: every text of ours that staff read has its French.

Three checks, each failing on the text that is missing, with the file to fix:

- every entry of every app's ``locale/fr/LC_MESSAGES/django.po`` has a non-empty French msgstr, is
  not fuzzy, and keeps the placeholders of its msgid (``{order}``, ``%(count)s``);
- every string our Python code and templates mark for translation (``gettext``, ``_``,
  ``{% translate %}``, ``{% blocktranslate %}``...) is in its app's catalogue, and the catalogue
  holds no string the code no longer marks: Django's own ``makemessages`` (GNU xgettext, installed
  by .ci/run) is run on a copy of the apps and what it would add or mark obsolete is reported;
- no template of ours writes a fixed text outside ``{% translate %}``: the text between its tags
  (and its ``title``, ``placeholder``, ``aria-label`` and ``alt`` attributes) holds no word once the
  template's tags, comments and ``<code>``/``<script>``/``<style>`` contents are taken out.

The project's own templates (``templates/``) are the admin's frame: their texts are integration's.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parents[2]
APPS = ["integration", "inventory", "orders", "returns", "shopify_channel", "reconciliation", "demo"]
FRAME_TEMPLATES = ROOT / "templates"  # the admin's frame (base_site.html): integration's texts
PLACEHOLDER = re.compile(r"\{\w*\}|%\(\w+\)[sd]|%[sd]")
WORD = re.compile(r"[^\W\d_]{2,}")


def catalogue(app: str) -> Path:
    return ROOT / app / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def our_templates() -> Iterator[Path]:
    for folder in [FRAME_TEMPLATES, *(ROOT / app / "templates" for app in APPS)]:
        yield from sorted(folder.rglob("*.html"))


@pytest.mark.parametrize("app", APPS)
def test_every_entry_of_the_catalogue_has_its_french(app: str) -> None:
    po = polib.pofile(str(catalogue(app)))

    untranslated = [e.msgid for e in po if not e.obsolete and not (e.msgstr or all(e.msgstr_plural.values()))]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    placeholders = [
        e.msgid for e in po if not e.obsolete and e.msgstr
        and sorted(PLACEHOLDER.findall(e.msgid)) != sorted(PLACEHOLDER.findall(e.msgstr))
    ]  # fmt: skip

    assert (untranslated, fuzzy, placeholders) == ([], [], []), f"{catalogue(app).relative_to(ROOT)}"


def test_every_marked_string_is_in_its_apps_catalogue_and_nothing_else_is(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail(
            "makemessages needs GNU gettext (apt-get install -y --no-install-recommends gettext; "
            ".ci/run installs it)",
            pytrace=False,
        )
    for app in APPS:
        shutil.copytree(
            ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("migrations", "__pycache__", "*.mo")
        )
    shutil.copytree(FRAME_TEMPLATES, tmp_path / "integration" / "frame_templates")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        call_command("makemessages", locale=["fr"], no_location=True, verbosity=0)
    finally:
        os.chdir(cwd)

    missing: dict[str, list[str]] = {}
    stale: dict[str, list[str]] = {}
    for app in APPS:
        merged = polib.pofile(str(tmp_path / app / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
        if new := [e.msgid for e in merged if not e.obsolete and (not e.translated() or e.fuzzy)]:
            missing[app] = new
        if gone := [e.msgid for e in merged if e.obsolete]:
            stale[app] = gone

    assert missing == {}, "marked for translation but without French in the app's django.po"
    assert stale == {}, "in the app's django.po but no longer marked anywhere in the app"


class _Texts(HTMLParser):
    """The words of a page's text and of its readable attributes, outside <code>, <script>, <style>."""

    READABLE = {"title", "placeholder", "aria-label", "alt"}
    SKIPPED = {"code", "script", "style"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self._skipping += 1
        self.words += [w for name, value in attrs if name in self.READABLE for w in WORD.findall(value or "")]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.words += WORD.findall(data)


def fixed_words(source: str) -> list[str]:
    """The words ``source`` (a Django template) writes outside its translation tags."""
    kept: list[str] = []
    inside: str | None = None  # "comment", "blocktranslate", "verbatim" while in one
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if inside is None and name in ("comment", "blocktranslate", "blocktrans", "verbatim"):
                inside = name
            elif inside is not None and name in (f"end{inside}", "plural"):
                inside = None if name != "plural" else inside
            kept.append("\x00")  # a tag's place: it may sit inside an attribute or between words
        elif token.token_type == TokenType.VAR:
            kept.append("\x00")
        elif token.token_type == TokenType.TEXT and inside is None:
            kept.append(token.contents)
    parser = _Texts()
    parser.feed("".join(kept))
    parser.close()
    return parser.words


@pytest.mark.parametrize("template", list(our_templates()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_of_ours_writes_a_fixed_text(template: Path) -> None:
    assert fixed_words(template.read_text(encoding="utf-8")) == []


def test_the_template_check_sees_text_attributes_and_leaves_translated_texts() -> None:
    source = (
        "{% load i18n %}{% comment %}Why this page{% endcomment %}<h2>Status: {{ x }}</h2>"
        '<a href="{% url "a" %}" title="Open it">{% translate "Open" %}</a><code>GET /health</code>'
        "{% blocktranslate %}At {{ at }}{% endblocktranslate %}{# a note #}<td>{{ n }} s</td>"
    )

    assert fixed_words(source) == ["Status", "Open", "it"]
