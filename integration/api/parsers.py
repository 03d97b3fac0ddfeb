"""The API's JSON parser: DRF's, with a body nested too deep answered as a parse error."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class ApiJSONParser(JSONParser):
    """``[[[[...`` deeper than Python's recursion limit makes ``json.loads`` raise RecursionError,
    which DRF does not catch (a 500); here it is a 400 ``parse_error`` like any other bad JSON."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
