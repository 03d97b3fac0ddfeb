"""Reference data kept a moment per process: kept, expired, and forgotten when it changes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import transaction

from integration.core import reference_cache
from integration.core.reference_cache import reference, reference_forget
from integration.models import StorefrontClient
from integration.storefront.clients import (
    CLIENT_BY_TOKEN,
    storefront_client_by_token,
    storefront_client_create,
    storefront_client_deactivate,
    storefront_client_rotate,
    token_hash,
)
from inventory.models import Location
from inventory.selectors import selling_locations


class Monotonic:
    """The cache's clock (``time.monotonic``), moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    clock = Monotonic()
    monkeypatch.setattr(reference_cache.time, "monotonic", clock)
    return clock


def counting(values: list[str]) -> tuple[Callable[[], str], list[int]]:
    loads = [0]

    def load() -> str:
        loads[0] += 1
        return values[min(loads[0], len(values)) - 1]

    return load, loads


def test_a_value_is_kept_for_the_ttl_then_loaded_again(monotonic: Monotonic, settings: object) -> None:
    settings.REFERENCE_CACHE_SECONDS = 2  # type: ignore[attr-defined]
    load, loads = counting(["old", "new"])

    assert reference("t.kept", load) == "old"
    monotonic.now += 1.9
    assert reference("t.kept", load) == "old"
    assert loads == [1]
    monotonic.now += 0.2
    assert reference("t.kept", load) == "new"
    assert loads == [2]


def test_a_ttl_of_zero_keeps_nothing(monotonic: Monotonic, settings: object) -> None:
    settings.REFERENCE_CACHE_SECONDS = 0  # type: ignore[attr-defined]
    load, loads = counting(["a", "b"])

    assert [reference("t.off", load), reference("t.off", load)] == ["a", "b"]
    assert loads == [2]


@pytest.mark.django_db
def test_a_change_through_the_orm_is_seen_at_once_in_this_process(monotonic: Monotonic) -> None:
    Location.objects.create(code=7, name="Store 7", click_and_collect=False)
    assert 7 not in selling_locations()

    Location.objects.filter(code=7).update(click_and_collect=True)  # bypasses the signals, as another process's write
    assert 7 not in selling_locations()  # kept: another process's change waits for the TTL
    monotonic.now += 2.1
    assert 7 in selling_locations()  # the bound on how long another process's change takes

    location = Location.objects.get(code=7)
    location.click_and_collect = False
    location.save()  # this process's change: forgotten by the save signal
    assert 7 not in selling_locations()


@pytest.mark.django_db
def test_a_value_read_inside_the_changing_transaction_is_forgotten_again_at_commit(
    monotonic: Monotonic, django_capture_on_commit_callbacks: Callable[..., object]
) -> None:
    load, loads = counting(["before", "after"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():  # type: ignore[attr-defined]
        reference_forget("t.tx")
        assert reference("t.tx", load) == "before"  # read while the change is not committed yet
    assert reference("t.tx", load) == "after"
    assert loads == [2]


def test_forgetting_by_prefix_leaves_the_other_names(monotonic: Monotonic) -> None:
    reference("client:a", lambda: "a")
    reference("client:b", lambda: "b")
    reference("switch", lambda: "on")
    reference_forget("client:", prefix=True)
    assert set(reference_cache._values) == {"switch"}
    reference_forget("nothing:", prefix=True)  # no name starts with it: nothing else is dropped
    assert set(reference_cache._values) == {"switch"}


def test_a_none_is_not_kept_when_asked(monotonic: Monotonic) -> None:
    loads = [0]

    def load() -> None:
        loads[0] += 1

    assert reference("t.none", load, keep_none=False) is None
    assert reference("t.none", load, keep_none=False) is None
    assert loads == [2]
    assert "t.none" not in reference_cache._values


@pytest.mark.django_db
def test_a_storefront_client_is_kept_by_its_token_and_forgotten_when_changed(
    monotonic: Monotonic, django_assert_num_queries: Callable[..., object]
) -> None:
    client, token = storefront_client_create(name="kept", scopes=["availability:read"])
    assert storefront_client_by_token(token) == client
    with django_assert_num_queries(0):  # type: ignore[attr-defined]
        assert storefront_client_by_token(token) == client

    storefront_client_deactivate(client=client)  # this process's change: forgotten at once
    found = storefront_client_by_token(token)
    assert found is not None
    assert found.active is False

    StorefrontClient.objects.filter(pk=client.pk).update(active=True)  # as another process's write
    assert storefront_client_by_token(token).active is False  # type: ignore[union-attr]
    monotonic.now += 2.1
    assert storefront_client_by_token(token).active is True  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_rotated_token_is_refused_at_once_and_an_unknown_token_is_never_kept(monotonic: Monotonic) -> None:
    client, old = storefront_client_create(name="rotated", scopes=["availability:read"])
    assert storefront_client_by_token(old) == client
    _, new = storefront_client_rotate(client=client)

    assert storefront_client_by_token(old) is None
    assert storefront_client_by_token(new) == client
    assert storefront_client_by_token("sk_unknown_" + "x" * 40) is None
    assert [n for n in reference_cache._values if n.startswith(CLIENT_BY_TOKEN)] == [
        f"{CLIENT_BY_TOKEN}{token_hash(new)}"
    ]
