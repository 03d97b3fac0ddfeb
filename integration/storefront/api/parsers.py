"""The API's JSON parser: DRF's, with a body nested too deep answered as a parse error."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from integration.core.json_limits import json_depth

#: No body of this API nests deeper; a deeper one is a parse error before anything reads it.
MAX_BODY_DEPTH = 32


class ApiJSONParser(JSONParser):
    """``[[[[...`` deeper than Python's recursion limit makes ``json.loads`` raise RecursionError,
    which DRF does not catch (a 500); here it is a 400 ``parse_error`` like any other bad JSON."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"The body nests too deep to be read; at most {MAX_BODY_DEPTH} levels are allowed.") from None
        depth = json_depth(data)
        if depth > MAX_BODY_DEPTH:
            raise ParseError(f"The body nests {depth} levels deep; at most {MAX_BODY_DEPTH} are allowed.")
        return data
