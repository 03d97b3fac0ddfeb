"""The API's JSON renderer: DRF's, with every date and time written in UTC with ``Z``.

``REST_FRAMEWORK["DATETIME_FORMAT"]`` is None, so that serializers hand their datetimes to the
renderer as they are, whatever the current time zone (the site's is Paris); its encoder writes
each with :func:`~integration.core.wire.wire_datetime`, as the webhook bodies are written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from integration.core.wire import wire_datetime


class ApiJSONEncoder(JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, datetime):
            return wire_datetime(obj)
        return super().default(obj)


class ApiJSONRenderer(JSONRenderer):
    encoder_class = ApiJSONEncoder
