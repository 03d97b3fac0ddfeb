"""The admin as French staff read it: French by default, English when chosen; amounts in euros;
moments in Paris time in one format on every page that shows one; the AS400 simulator's clock
said as such; quiet file runs folded away; no red cross for good news.

The clock is frozen at ``TUESDAY`` (10:00 in Paris, 09:00 UTC): every moment the ``world`` writes
is that one, so each page must say « 24/11/2026 10:00 » (« 2026-11-24 10:00 » in English) and
never the UTC hour or an ISO string.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from integration.alerts import alert_raise
from integration.as400 import sync
from integration.as400.simulator import FAULTS, Simulator, SimulatorConfig, SimulatorError
from integration.models import FileRun, OutboxMessage
from integration.outbox import dispatch
from integration.shopify.calls import DEAD_ALERT, REFUSED
from inventory.models import Category
from orders import acks, cancellation, lifecycle
from orders.models import OrderEvent
from orders.outbox_actions import outbox_message_retry
from reconciliation import services as reconciliation_services
from reconciliation import tasks as reconciliation_tasks
from returns.models import Return
from shopify_channel import poll
from tests.factories.admin import World
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]

NBSP = "\xa0"
PARIS_FR = "24/11/2026 10:00"
PARIS_EN = "2026-11-24 10:00"
UTC_TRACES = ["09:00", "2026-11-24T", "+00:00", "UTC"]


def _shown(trace: str, html: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(trace)}(?![A-Za-z0-9])", html) is not None


def page(http: Client, url: str, language: str | None = None) -> str:
    """The page's HTML, after choosing ``language`` with the admin's switch (None: the default)."""
    if language is not None:
        switched = http.post(reverse("set_language"), {"language": language, "next": url})
        assert switched.status_code == 302
    response = http.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def pages(world: World) -> dict[str, str]:
    return {
        "index": reverse("admin:index"),
        "order": reverse("admin:orders_order_change", args=[world.order.pk]),
        "file_runs": reverse("admin:integration_filerun_changelist"),
        "outbox_health": reverse("admin:outbox_health"),
    }


#: A text of ours (or Django's) each page shows, in French and in English.
SAID = {
    "index": ("Aujourd’hui", "Today"),
    "order": ("historique", "history"),
    "file_runs": ("traitements sans effet", "quiet runs"),
    "outbox_health": ("File par état", "Queue by state"),
}
#: What the French page must not say in English (the texts of ours that used to stay English).
NOT_IN_FRENCH = {
    "index": ["Home", "Log out"],
    "order": ["as given", "as sent", "event id", "no webhook", "outbound file"],
    "file_runs": ["Home", "Folded away"],
    "outbox_health": ["Home", "Queue by state", "Dead messages", "Circuit breaker", "threshold"],
}


@pytest.mark.parametrize("name", list(SAID))
def test_the_admin_speaks_french_by_default_and_english_when_chosen(
    name: str, world: World, superuser_client: Client
) -> None:
    url = pages(world)[name]
    french, english = SAID[name]

    by_default = page(superuser_client, url)
    chosen_english = page(superuser_client, url, "en")
    back_to_french = page(superuser_client, url, "fr")

    assert '<html lang="fr"' in by_default
    assert french.lower() in by_default.lower()
    assert [
        text for text in NOT_IN_FRENCH[name] if f">{text}" in by_default or f" {text} " in by_default
    ] == []
    assert '<html lang="en"' in chosen_english
    assert english.lower() in chosen_english.lower()
    assert french.lower() not in chosen_english.lower()
    assert french.lower() in back_to_french.lower()


def test_amounts_are_in_euros_in_each_language(world: World, superuser_client: Client) -> None:
    assert world.order.total == 2 * world.order.lines.get().unit_price  # 2 × 9.90
    order_url = reverse("admin:orders_order_change", args=[world.order.pk])
    orders_url = reverse("admin:orders_order_changelist")

    french_order, french_list = page(superuser_client, order_url), page(superuser_client, orders_url)
    english_order = page(superuser_client, order_url, "en")
    english_list = page(superuser_client, orders_url)

    assert f"19,80{NBSP}€" in french_list
    assert f"9,90{NBSP}€" in french_order  # the line's unit price
    assert "€19.80" in english_list
    assert "€9.90" in english_order


def moments_shown(world: World) -> dict[str, str]:
    """Each page that shows moments, with the world's rows made at TUESDAY."""
    FileRun.objects.update(started_at=TUESDAY, finished_at=TUESDAY)
    return {
        "storefront_events": reverse("admin:integration_storefrontevent_changelist"),
        "orders": reverse("admin:orders_order_changelist"),
        "order": reverse("admin:orders_order_change", args=[world.order.pk]),
        "outbox_health": reverse("admin:outbox_health"),
        "file_runs": reverse("admin:integration_filerun_changelist"),
    }


@pytest.mark.parametrize("name", ["storefront_events", "orders", "order", "outbox_health", "file_runs"])
def test_moments_are_in_paris_time_in_one_format(name: str, world: World, superuser_client: Client) -> None:
    url = moments_shown(world)[name]

    french = page(superuser_client, url)
    english = page(superuser_client, url, "en")

    assert PARIS_FR in french
    assert PARIS_EN in english
    # As words, not as letters inside a random token (a CSRF token or an RMA may hold "UTC").
    assert [trace for trace in UTC_TRACES if _shown(trace, french) or _shown(trace, english)] == []


def test_the_simulators_times_are_marked_as_its_clock(
    world: World, superuser_client: Client, settings: Settings, tmp_path: Path
) -> None:
    settings.AS400_EXCHANGE_BACKEND = "simulator"
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_SIMULATOR = {"start": TUESDAY + timedelta(hours=2), "items": 30}
    FileRun.objects.update(taken_at=TUESDAY - timedelta(hours=1))

    file_runs = page(superuser_client, reverse("admin:integration_filerun_changelist"))
    simulator = page(superuser_client, reverse("admin:as400_simulator"))

    assert "24/11/2026 09:00 (horloge du simulateur)" in file_runs
    assert "24/11/2026 12:00:00 (horloge du simulateur)" in simulator
    assert "2026-11-24 12:00" not in simulator  # one format: not a second one beside it


def test_without_the_simulator_the_as400s_times_are_not_marked(
    world: World, superuser_client: Client
) -> None:
    assert django_settings.AS400_EXCHANGE_BACKEND != "simulator"
    FileRun.objects.update(taken_at=TUESDAY - timedelta(hours=1))

    file_runs = page(superuser_client, reverse("admin:integration_filerun_changelist"))

    assert "24/11/2026 09:00" in file_runs
    assert "horloge du simulateur" not in file_runs


def test_quiet_runs_are_folded_away_by_default_and_shown_by_the_filter(
    world: World, superuser_client: Client
) -> None:
    quiet = FileRun.objects.create(
        file="STKBAL", seq=7, kind="D", outcome="applied", record_count=0, started_at=TUESDAY
    )
    busy = FileRun.objects.create(
        file="STKBAL", seq=8, kind="D", outcome="applied", record_count=2, counts={"updated": 2},
        started_at=TUESDAY,
    )  # fmt: skip
    url = reverse("admin:integration_filerun_changelist")

    def listed(query: str) -> set[int]:
        response = superuser_client.get(url + query)
        assert response.status_code == 200
        return {run.pk for run in response.context["cl"].result_list}

    everything = set(FileRun.objects.values_list("pk", flat=True))
    assert listed("") == everything - {quiet.pk}
    assert busy.pk in listed("")
    assert listed("?quiet=shown") == everything
    assert listed("?quiet=only") == {quiet.pk}
    assert "Masqués" in page(superuser_client, url)  # the default choice, named as such


def test_a_return_that_is_not_overdue_shows_no_red_cross(world: World, superuser_client: Client) -> None:
    assert Return.objects.count() == 1

    returns = page(superuser_client, reverse("admin:returns_return_changelist"))
    order = page(superuser_client, reverse("admin:orders_order_change", args=[world.order.pk]))

    assert "icon-no.svg" not in returns
    assert "icon-no.svg" not in order


def test_the_health_pages_problems_are_in_french_and_its_json_stays_english(
    world: World, superuser_client: Client
) -> None:
    page_html = html.unescape(page(superuser_client, reverse("admin:outbox_health")))
    json_problems = superuser_client.get("/health/outbox").json()["problems"]

    assert "1 message(s) de l'outbox mort(s) (plus de 0)" in page_html
    assert "1 dead outbox message(s) (more than 0)" in json_problems
    assert "dead outbox message" not in page_html


def test_the_simulators_faults_are_said_in_french_and_its_command_line_stays_english(
    superuser_client: Client, settings: Settings, tmp_path: Path
) -> None:
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_SIMULATOR = {"start": TUESDAY, "items": 30}
    url = reverse("admin:as400_simulator")

    faults = html.unescape(page(superuser_client, url))
    switched_on = superuser_client.post(url, {"action": "fault_on", "name": "corrupt", "value": "digit"}, follow=True)
    switched_off = superuser_client.post(url, {"action": "fault_off", "name": "corrupt"}, follow=True)
    refused = superuser_client.post(url, {"action": "fault_on", "name": "slow", "value": "soon"}, follow=True)
    unknown = superuser_client.post(url, {"action": "fault_on", "name": "flood"}, follow=True)

    assert "L'AS400 est arrêté : rien n'est lu dans IN/" in faults  # the help of ``down``
    assert 'placeholder="euros, comme 12.34"' in faults  # the value ``price`` takes
    assert "The AS400 is down" not in faults
    assert [str(m) for m in switched_on.context["messages"]] == [
        "Panne corrupt activée (valeur digit) : elle agit une fois, puis se désactive d'elle-même."
    ]
    assert [str(m) for m in switched_off.context["messages"]] == ["Panne corrupt désactivée."]
    assert [str(m) for m in refused.context["messages"]] == [
        "la panne 'slow' demande un nombre de minutes positif, pas 'soon'"
    ]
    assert [str(m) for m in unknown.context["messages"]] == [
        "panne 'flood' inconnue ; les pannes sont : " + ", ".join(FAULTS)
    ]
    with Simulator(SimulatorConfig.from_settings()) as sim:  # the simulator's own words stay English
        assert sim.fault_on("slow", value="15").describe() == "slow: ON value=15"
        with pytest.raises(SimulatorError, match="^fault 'slow' needs a positive number of minutes, not 'soon'$"):
            sim.fault_on("slow", value="soon")


def test_an_import_files_row_errors_and_a_forms_refusal_are_in_french(
    world: World, superuser_client: Client
) -> None:
    family = Category.objects.order_by("family_code").values_list("family_code", flat=True).first()
    rows = f"family_code,rollout_stage\n{family},live\n{family},pilot\nZZZZ,open\n"
    upload = SimpleUploadedFile("categories.csv", rows.encode())

    imported = superuser_client.post(
        reverse("admin:inventory_category_import"), {"resource": "0", "format": "0", "import_file": upload}
    )
    refused = superuser_client.post(
        reverse("admin:integration_storefrontclient_change", args=[world.client.pk]),
        {"scopes": ["orders:write"], "rate_limit": 600, "active": "on", "webhook_url": "http://shop.example.com/h"},
    )

    assert imported.status_code == 200
    assert [(r.number, r.error_dict) for r in imported.context["result"].invalid_rows] == [
        (1, {"family_code": [f"la famille '{family}' est sur les lignes 1 et 2 du fichier"]}),
        (2, {"family_code": [f"la famille '{family}' est sur les lignes 1 et 2 du fichier"]}),
        (3, {
            "rollout_stage": ["'open' n'est pas une valeur de « étape de déploiement » : utilisez off, pilot ou live"],
            "family_code": ["famille 'ZZZZ' inconnue : les familles viennent du fichier articles de l'AS400"],
        }),
    ]  # fmt: skip
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["webhook_url"] == [
        "doit être une URL https:// (http:// seulement sur cette machine)"
    ]


def test_an_orders_history_written_in_english_is_read_in_the_readers_language(
    world: World, superuser_client: Client
) -> None:
    # given: the world's order, placed by the storefront client "shop", its dead ORDIMP retried by
    # staff; its history is stored in English (what the API and the logs say)
    message = OutboxMessage.objects.get(subject=world.order.pk, kind="ORDIMP")
    outbox_message_retry(message=message, user=None)
    assert list(world.order.events.filter(line__isnull=True).values_list("cause", flat=True)) == [
        "placed by shop", f"ORDIMP message #{message.pk} retried by system (dead after 8 attempts)",
    ]  # fmt: skip
    url = reverse("admin:orders_order_change", args=[world.order.pk])

    # when: staff read the order's page in French, then in English
    french = html.unescape(page(superuser_client, url))
    english = html.unescape(page(superuser_client, url, "en"))

    # then: each line in the reader's language
    retried_fr = f"message ORDIMP n°{message.pk} relancé par system (mort après 8 tentatives)"
    assert "passée par shop" in french
    assert retried_fr in french
    assert "placed by shop" not in french
    assert "retried by" not in french
    assert "placed by shop" in english
    assert "retried by system (dead after 8 attempts)" in english


def test_an_alert_written_in_english_is_read_in_french(world: World, superuser_client: Client) -> None:
    # given: the alert a dead call to Shopify raises (integration.shopify.calls), stored in English
    alert = alert_raise(
        kind="shopify_call_dead", subject="order_cancel SHP1001",
        message=DEAD_ALERT.format(kind="order_cancel", subject="SHP1001", pk=7,
                                  error=REFUSED.format(reason="the order is already cancelled")),
    )  # fmt: skip

    shown = html.unescape(page(superuser_client, reverse("admin:integration_alert_change", args=[alert.pk])))

    assert (
        "L'appel à Shopify order_cancel de SHP1001 (#7) est abandonné : refusé : the order is already cancelled ; "
        "relancez-le depuis l'admin (Appels à Shopify) une fois la cause corrigée"
    ) in shown


def test_the_exchanges_alerts_written_in_english_are_read_in_french(world: World, superuser_client: Client) -> None:
    # given: alerts of the AS400 sync and of the outbox dispatch, stored in English as they raise them
    gap = alert_raise(kind="sequence_gap", subject="STKBAL_000005", message=sync._gap("STKBAL", 2, 5, "STKBAL_000005"))
    refused = alert_raise(kind="in_file_refused", subject="ORDIMP_000003",
                          message=dispatch.FILE_REFUSED.format(name="ORDIMP_000003"))  # fmt: skip
    assert gap.message == "STKBAL_000003 to STKBAL_000004 never arrived before STKBAL_000005"
    assert refused.message == (
        "ORDIMP_000003 was refused by the AS400 (IN/ERR/); its orders are sent again in a new file"
    )

    # when: staff open each alert's page (French by default), then the gap's in English
    shown = [
        html.unescape(page(superuser_client, reverse("admin:integration_alert_change", args=[a.pk])))
        for a in (gap, refused)
    ]
    english = html.unescape(page(superuser_client, reverse("admin:integration_alert_change", args=[gap.pk]), "en"))

    # then: each says it in French, and in English once English is chosen
    assert "STKBAL_000003 à STKBAL_000004 ne sont jamais arrivés avant STKBAL_000005" in shown[0]
    assert (
        "ORDIMP_000003 a été refusé par l'AS400 (IN/ERR/) ; ses commandes sont renvoyées dans un nouveau fichier"
    ) in shown[1]
    assert "never arrived" not in shown[0]
    assert gap.message in english


def test_a_cancellations_history_line_and_the_orders_alerts_are_read_in_french(
    world: World, superuser_client: Client
) -> None:
    # given: on the world's order, the history line a cancellation asked after the order left writes
    # (orders.cancellation; tests/orders/test_cancel.py checks the English it stores), and the alerts the
    # orders' acks and events raise, each stored in English
    OrderEvent.objects.create(
        order=world.order, status_from=world.order.status, status_to=world.order.status, at=world.order.updated_at,
        cause=cancellation.WHOLE_ASKED_WHY.format(by="ops", reason="CLI"),
    )
    refused = alert_raise(
        kind="order_refused", subject="WEB-000009",
        message=acks.REFUSED_ALERT.format(order="WEB-000009", reason="ITEM UNKNOWN", released=2),
    )  # fmt: skip
    kept = alert_raise(
        kind="as400_event_discrepancy", subject="ORDSTS_000004",
        message=lifecycle.DISCREPANCIES.format(source="ORDSTS_000004", total=3, detail="3 unknown order"),
    )  # fmt: skip

    # when: staff read the order's page and the alerts' pages (French by default)
    order_page = html.unescape(page(superuser_client, reverse("admin:orders_order_change", args=[world.order.pk])))
    alerts = [
        html.unescape(page(superuser_client, reverse("admin:integration_alert_change", args=[a.pk])))
        for a in (refused, kept)
    ]

    # then: in French, the values as written
    assert "annulation de toute la commande demandée par ops (CLI) ; l'AS400 décide" in order_page
    assert "the AS400 decides" not in order_page
    assert "commande WEB-000009 refusée par l'AS400 : ITEM UNKNOWN ; 2 unités libérées" in alerts[0]
    assert (
        "ORDSTS_000004 : 3 événement(s) gardé(s) comme écarts (3 unknown order) ; voir les événements AS400"
    ) in alerts[1]


def test_the_shopify_polls_alert_written_in_english_is_read_in_french(world: World, superuser_client: Client) -> None:
    # given: the alert the Shopify orders poll raises when orders could not be applied, stored in English
    alert = alert_raise(
        kind="shopify_poll_failed", subject=poll.CURSOR,
        message=poll.POLL_FAILED.format(count=1, failed="#1001: no SKU"),
    )  # fmt: skip
    assert alert.message == "Shopify orders poll: 1 order(s) not applied (read again at the next poll): #1001: no SKU"

    shown = html.unescape(page(superuser_client, reverse("admin:integration_alert_change", args=[alert.pk])))

    assert (
        "Relevé des commandes Shopify : 1 commande(s) non appliquée(s) (relues au prochain relevé) : #1001: no SKU"
    ) in shown


def test_the_reconciliations_alerts_written_in_english_are_read_in_french(
    world: World, superuser_client: Client
) -> None:
    # given: the alerts of a night whose extracts are late and of a check that could not run, in English
    late = alert_raise(
        kind="reconciliation_files_late", subject="2026-11-24",
        message=reconciliation_tasks.FILES_LATE.format(night="2026-11-24", files="STKBAL, WEBORD"),
    )  # fmt: skip
    skipped = alert_raise(
        kind="reconciliation_check_unavailable", subject="2026-11-24:stock",
        message=reconciliation_services.CHECK_UNAVAILABLE.format(night="2026-11-24", code="stock", error="no STKBAL"),
    )  # fmt: skip
    assert late.message == "night 2026-11-24: the full STKBAL, WEBORD had not arrived by the deadline"

    shown = [
        html.unescape(page(superuser_client, reverse("admin:integration_alert_change", args=[a.pk])))
        for a in (late, skipped)
    ]

    assert "nuit du 2026-11-24 : le STKBAL, WEBORD complet n'était pas arrivé à l'heure limite" in shown[0]
    assert "nuit du 2026-11-24 : le contrôle stock n'a pas tourné : no STKBAL" in shown[1]


def test_the_simulators_refusals_are_said_in_french_and_its_own_words_stay_english(
    superuser_client: Client, settings: Settings, tmp_path: Path
) -> None:
    # given: a seeded simulator with its AS400 down
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_SIMULATOR = {"start": TUESDAY, "items": 30}
    url = reverse("admin:as400_simulator")
    seeded = superuser_client.post(url, {"action": "seed"}, follow=True)
    superuser_client.post(url, {"action": "fault_on", "name": "down"}, follow=True)

    # when: staff ask for a full extract, an import, and an extract of a file that is not one
    export = superuser_client.post(url, {"action": "export_full", "file": "STKBAL"}, follow=True)
    imported = superuser_client.post(url, {"action": "import"}, follow=True)
    superuser_client.post(url, {"action": "fault_off", "name": "down"}, follow=True)
    wrong = superuser_client.post(url, {"action": "export_full", "file": "ORDACK"}, follow=True)

    # then: each refusal in French on the page, and what the seed did
    assert [str(m) for m in seeded.context["messages"]] == ["initialisé : 30 articles × 31 sites (graine 297)"]
    assert [str(m) for m in export.context["messages"]] == ["l'AS400 est arrêté (panne down) : rien n'est exporté"]
    assert [str(m) for m in imported.context["messages"]] == [
        "travail d'import non lancé : l'AS400 est arrêté (panne down)"
    ]
    assert [str(m) for m in wrong.context["messages"]] == [
        "un extrait complet est l'un de ITMMST, STKBAL, WEBORD"
    ]
    # and: the simulator's own words (its command line, its log) stay English
    with Simulator(SimulatorConfig.from_settings()) as sim:
        sim.fault_on("down")
        assert sim.import_now().summary() == "import job not run: the AS400 is down (fault down)"
        with pytest.raises(SimulatorError, match=r"^the AS400 is down \(fault down\): nothing is exported$"):
            sim.export("full", "STKBAL")
