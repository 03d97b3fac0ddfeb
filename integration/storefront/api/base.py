"""The base of every view a storefront client calls."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from integration.models import StorefrontClient
from integration.storefront.api.codes import ErrorCode
from integration.storefront.api.errors import ApiError

#: An ``Idempotency-Key`` header: printable ASCII without spaces, as long as the models keep.
IDEMPOTENCY_KEY_MAX_LENGTH = 128
IDEMPOTENCY_KEY = re.compile(rf"[!-~]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}")


def idempotency_header(replay: str) -> OpenApiParameter:
    """The OpenAPI description of the ``Idempotency-Key`` header :meth:`ClientApi.idempotency_key` reads.

    ``replay`` says what the same key answers for this operation; the rest (its form, that it is
    optional) is the same for every operation.
    """
    return OpenApiParameter(
        "Idempotency-Key",
        {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH, "pattern": "^[!-~]+$"},
        OpenApiParameter.HEADER,
        description=f"Optional, printable ASCII, at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters. {replay}",
    )


class ClientApi(APIView):
    """A view for storefront clients: ``required_scope`` is what the client's token must carry.

    Answers in English whatever the site's language (the admin's is French): the API's readers
    are developers, and its own messages are English.
    """

    required_scope: ClassVar[str]
    #: The code of "not found" for what the path names (an order, an RMA...).
    not_found_code: ClassVar[str] = ErrorCode.NOT_FOUND

    @property
    def client(self) -> StorefrontClient:
        client = self.request.user
        assert isinstance(client, StorefrontClient)  # HasRequiredScope let only clients through
        return client

    def idempotency_key(self) -> str:
        """The request's ``Idempotency-Key`` header, "" without one; a malformed one is 400 ``validation_error``."""
        key = self.request.headers.get("Idempotency-Key")
        if key is None:
            return ""
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise serializers.ValidationError(
                {"Idempotency-Key": ["This must be printable ASCII without spaces, 1 to 128 characters."]}
            )
        return key

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # who asks, and may they: 401/403 come first
        # A NUL byte in a path (an order number, an RMA, a SKU) names nothing we can hold, and
        # PostgreSQL refuses it in a query: it is "not found" here rather than a 500 there.
        if any(isinstance(value, str) and "\x00" in value for value in kwargs.values()):
            raise ApiError(
                status_code=404,
                code=self.not_found_code,
                message="nothing has this name (it holds a NUL character)",
            )

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with translation.override("en"):
            return super().dispatch(request, *args, **kwargs)
