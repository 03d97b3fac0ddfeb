"""The base of every view a storefront client calls."""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from rest_framework.views import APIView

from integration.models import StorefrontClient


class ClientApi(APIView):
    """A view for storefront clients: ``required_scope`` is what the client's token must carry.

    Answers in English whatever the site's language (the admin's is French): the API's readers
    are developers, and its own messages are English.
    """

    required_scope: ClassVar[str]

    @property
    def client(self) -> StorefrontClient:
        client = self.request.user
        assert isinstance(client, StorefrontClient)  # HasRequiredScope let only clients through
        return client

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with translation.override("en"):
            return super().dispatch(request, *args, **kwargs)
