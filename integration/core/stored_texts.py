"""Texts written into the database that staff read later, said in the reader's language.

A history line, a call's last error, a call's result: written once (by a task, in no one's
language), read later by whoever opens the page, in French or English. Such a text is stored in
English, the source language, as logs, searches, the API and tests read it; its template is
marked for the catalogue and declared here once, at import (:class:`StoredText`)::

    RESENT = StoredText(gettext_noop("sent again to the AS400 by {by}: {why}"))
    cause = RESENT.format(by=who, why=note)          # stored: English

and the admin shows it with :func:`stored_text_translated`, which finds the template the value was
written from, takes its parameters back out of it and says the same in the active language. A
parameter that holds a stored text of its own (a refusal's reason) is named in ``texts`` and
translated too; the others (a note, a number, Shopify's words) are shown as they were written. A value no template matches (written
before its template was declared, by a person, or by another system) is shown as it is.

It is :class:`integration.monitoring.health.Problem` (English text, marked template, ``translated()``)
for a text that outlives the request that made it: the stored column stays what it was, no
migration, and rows written before the templates existed are translated too once they match.
"""

from __future__ import annotations

import re
from string import Formatter
from typing import Any

from django.utils.translation import gettext

_DECLARED: dict[str, StoredText] = {}
_BY_WORDS: list[StoredText] = []  # the declared templates, those with the most words first
_NESTING = 3  # a parameter's own stored text is translated, this deep


class StoredText:
    """One template of stored text: English when written, any language when read."""

    def __init__(self, template: str, *, texts: tuple[str, ...] = ()) -> None:
        pieces = list(Formatter().parse(template))
        if not any(literal.strip() for literal, *_ in pieces):
            raise ValueError(f"a stored text needs words around its parameters: {template!r}")
        pattern, seen = "", set()
        for literal, name, _spec, _conversion in pieces:
            pattern += re.escape(literal)
            if name is None:
                continue
            if not name.isidentifier():
                raise ValueError(f"a stored text's parameters are named: {template!r}")
            pattern += f"(?P={name})" if name in seen else f"(?P<{name}>.*?)"
            seen.add(name)
        if unknown := set(texts) - seen:
            raise ValueError(f"{template!r} has no parameter {', '.join(sorted(unknown))}")
        self.template, self.texts = template, texts
        self._pattern = re.compile(pattern, re.S)
        self._words = sum(len(literal) for literal, *_ in pieces)  # the more words, the surer a match
        if _DECLARED.setdefault(template, self) is self:
            _BY_WORDS.append(self)
            _BY_WORDS.sort(key=lambda d: -d._words)

    def format(self, **params: Any) -> str:
        """The text to store: the template in English with ``params``."""
        return self.template.format(**params)

    def match(self, text: str) -> dict[str, str] | None:
        """The parameters ``text`` was written with from this template (as written), or None."""
        found = self._pattern.fullmatch(text)
        return None if found is None else found.groupdict()

    def translated(self, parts: dict[str, str], depth: int = 0) -> str:
        """The template in the active language with the parts taken out of a stored text."""
        out = []
        for literal, name, _spec, _conversion in Formatter().parse(gettext(self.template)):
            out.append(literal)
            if name is not None:
                out.append(_translated(parts[name], depth + 1) if name in self.texts else parts[name])
        return "".join(out)

    def __repr__(self) -> str:
        return f"StoredText({self.template!r})"


def _translated(text: str, depth: int) -> str:
    if depth > _NESTING or not text:
        return text
    for declared in _BY_WORDS:
        parts = declared.match(text)
        if parts is not None:
            try:
                return declared.translated(parts, depth)
            except (KeyError, ValueError):  # a translation that names another parameter: say it in English
                return text
    return text


def stored_text_translated(text: str) -> str:
    """``text``, written from a declared template, in the active language (else as it is)."""
    return _translated(text, 0)


def stored_texts_translated(value: Any) -> Any:
    """Every string of a JSON value (a call's result) through :func:`stored_text_translated`."""
    if isinstance(value, str):
        return stored_text_translated(value)
    if isinstance(value, list):
        return [stored_texts_translated(v) for v in value]
    if isinstance(value, dict):
        return {k: stored_texts_translated(v) for k, v in value.items()}
    return value
