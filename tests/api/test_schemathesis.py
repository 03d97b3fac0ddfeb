"""Property-based runs of the whole API against its own OpenAPI document (schemathesis).

The document is read from /api/schema/ of the WSGI application in this process; requests go to it
in-process, inside the test's database transaction, with the token of a client holding every
scope, over a small real catalogue (the SKUs of the document's examples).

- Each operation gets a bounded number of generated requests, valid and invalid
  (:data:`EXAMPLES_PER_OPERATION`), besides the document's own examples.
- Then bounded workflows follow the document's links (:data:`WORKFLOWS`, up to 6 steps each): a
  reservation created, read, replaced and released, or turned into an order that is then read; a
  product listed, read and its content changed. Each workflow starts from the same database (it
  runs in a savepoint rolled back after it): an order takes its units for good, and Hypothesis
  needs a replayed workflow to meet the answers it met the first time.

No answer may be a server error; every answer must be one the document describes (status, content
type, headers, body); invalid input must be refused; without a token the API must answer 401.
Everything is derandomized, so that a run is the same run on every machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings

from integration.models import StorefrontClient
from integration.storefront.clients import PREFIX_LENGTH, token_hash
from tests.factories.api import ALL_SCOPES
from tests.factories.catalogue import Catalogue

EXAMPLES_PER_OPERATION = 30
WORKFLOWS = 50
# The fuzzing client's token, known before the run so that schemathesis sends it as the document's
# bearer scheme (and knows when it leaves it out on purpose, to check that the API then refuses).
TOKEN = "schemathesis-" + "x" * 40

CONFIG = schemathesis.Config.from_dict(
    {
        "auth": {"openapi": {"StorefrontToken": {"bearer": TOKEN}}},
        # Unknown query parameters are ignored by design (tested apart): not sent as "invalid" here.
        "generation": {
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "allow-extra-parameters": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": False},
            "stateful": {"enabled": True},
        },
        # Schema-valid yet refused is right here: an unknown SKU, a cursor this API did not write.
        # DELETE releases a reservation, which GET then shows `released` (documented): not a "use
        # after free".
        "checks": {"positive_data_acceptance": {"enabled": False}, "use_after_free": {"enabled": False}},
        "operations": [
            {
                # `?sku=x` is a one-SKU list, not "a string instead of an array" as the negative
                # generator believes: the two are the same query string.
                "include-operation-id": "availability_list",
                "checks": {"negative_data_rejection": {"enabled": False}},
            }
        ],
    }
)


@pytest.fixture
def wsgi_in_test_transaction() -> Iterator[None]:
    """Keep the test's database connection open across requests, as Django's test client does.

    A real request ends by closing connections in a transaction (``close_old_connections``); here
    that would close the test's own connection, inside which the catalogue exists.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzzing_client(catalogue: Catalogue, wsgi_in_test_transaction: None) -> StorefrontClient:
    """A client with every scope and :data:`TOKEN`, over a catalogue where a few SKUs exist."""
    # The SKUs of the document's examples, so that its examples also go the successful way.
    catalogue.product("4006381333931", stock={900: 50, 1: 5})
    catalogue.product("3700000000014", category=catalogue.pilot, stock={900: 20, 1: 10})
    return StorefrontClient.objects.create(
        name="fuzzer",
        token_prefix=TOKEN[:PREFIX_LENGTH],
        token_hash=token_hash(TOKEN),
        scopes=ALL_SCOPES,
        can_see_pilot=True,
        rate_limit=1_000_000,
    )


# Loaded when the module is collected (the document needs no database). schemathesis's lazy
# loader (``schemathesis.pytest.from_fixture``) does not run under pytest 9 in this version.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_answer_as_documented(
    case: schemathesis.Case, fuzzing_client: StorefrontClient
) -> None:
    case.call_and_validate()


class Workflows(schema.as_state_machine()):  # type: ignore[misc]
    """The document's workflows, each in a savepoint rolled back after it: the same start every time."""

    def setup(self) -> None:
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)


def test_linked_operations_in_sequence(fuzzing_client: StorefrontClient) -> None:
    """Workflows along the document's links: a reservation created, then read, replaced, released, or
    placed as an order."""
    Workflows.run(
        settings=settings(
            max_examples=WORKFLOWS,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
