"""``manage.py storefront_client <subcommand>``: the REST API's storefront clients, for scripts.

- ``create NAME [--scope S ...] [--pilot] [--rate N]``: prints the token, this once.
- ``list``: name, token prefix, scopes, pilot, rate, active, last use.
- ``rotate NAME``: a new token (printed once); the old one stops at once.
- ``deactivate NAME``: the client's token is refused from now on.
- ``webhook NAME --url URL [--event TYPE ...]``: where its webhooks go (``--url ""``: nowhere) and
  which event types (none given: unchanged; ``--all-events``: all). The first URL of a client
  prints its webhook secret, this once.
- ``rotate-webhook-secret NAME``: a new webhook secret (printed once); the old one stops at once.

``create``, ``rotate``, ``rotate-webhook-secret`` (and ``webhook`` when it generates a secret) print
the token or secret alone on stdout (``TOKEN=$(manage.py storefront_client create shop)``); what
people read goes to stderr.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from integration.models import StorefrontClient
from integration.storefront.clients import (
    DEFAULT_RATE_LIMIT,
    SCOPES,
    WEBHOOK_EVENTS,
    storefront_client_create,
    storefront_client_deactivate,
    storefront_client_rotate,
    storefront_client_webhook_secret_rotate,
    storefront_client_webhook_set,
)


class Command(BaseCommand):
    help = "Create, list, rotate or deactivate the REST API's storefront clients."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="Create a client and print its token once.")
        create.add_argument("name")
        create.add_argument(
            "--scope",
            action="append",
            choices=SCOPES,
            dest="scopes",
            help="A scope it gets (repeat the option); default: every scope but orders:write.",
        )
        create.add_argument("--pilot", action="store_true", help="May see and sell pilot categories.")
        create.add_argument(
            "--rate",
            type=int,
            default=DEFAULT_RATE_LIMIT,
            help=f"Requests per minute ({DEFAULT_RATE_LIMIT}).",
        )
        sub.add_parser("list", help="List the clients (never their tokens).")
        rotate = sub.add_parser("rotate", help="Give a client a new token; print it once.")
        rotate.add_argument("name")
        deactivate = sub.add_parser("deactivate", help="Refuse a client's token from now on.")
        deactivate.add_argument("name")
        webhook = sub.add_parser("webhook", help="Set where a client's webhooks go and which events.")
        webhook.add_argument("name")
        webhook.add_argument("--url", required=True, help='The endpoint (https://); "" for none.')
        events = webhook.add_mutually_exclusive_group()
        events.add_argument(
            "--event", action="append", choices=WEBHOOK_EVENTS, dest="events",
            help="An event type it wants (repeat the option); default: unchanged.",
        )  # fmt: skip
        events.add_argument("--all-events", action="store_true", help="Every event type.")
        secret = sub.add_parser(
            "rotate-webhook-secret", help="Give a client a new webhook secret; print it once."
        )
        secret.add_argument("name")

    @no_translations  # the command line speaks English, as its arguments and help do
    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['subcommand'].replace('-', '_')}")(options)

    def _client(self, name: str) -> StorefrontClient:
        try:
            return StorefrontClient.objects.get(name=name)
        except StorefrontClient.DoesNotExist:
            raise CommandError(f"no storefront client {name!r}") from None

    def _create(self, options: dict[str, Any]) -> None:
        scopes = options["scopes"] or [s for s in SCOPES if s != StorefrontClient.Scope.ORDERS_WRITE]
        try:
            client, token = storefront_client_create(
                name=options["name"],
                scopes=scopes,
                can_see_pilot=options["pilot"],
                rate_limit=options["rate"],
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        self.stderr.write(
            f"created {client.name}: scopes {', '.join(client.scopes)}, pilot {client.can_see_pilot}, "
            f"{client.rate_limit}/min. Its token, shown this once:"
        )
        self.stdout.write(token)

    def _list(self, options: dict[str, Any]) -> None:
        rows = [("name", "token", "scopes", "pilot", "rate/min", "active", "last used")]
        for c in StorefrontClient.objects.all():
            last = c.last_used_at.isoformat(timespec="seconds") if c.last_used_at else "never"
            rows.append((c.name, f"{c.token_prefix}…", ",".join(c.scopes), "yes" if c.can_see_pilot else "no",
                         str(c.rate_limit), "yes" if c.active else "no", last))  # fmt: skip
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())

    def _rotate(self, options: dict[str, Any]) -> None:
        client, token = storefront_client_rotate(client=self._client(options["name"]))
        self.stderr.write(f"new token of {client.name} (the old one no longer works), shown this once:")
        self.stdout.write(token)

    def _deactivate(self, options: dict[str, Any]) -> None:
        client = storefront_client_deactivate(client=self._client(options["name"]))
        self.stderr.write(f"{client.name} deactivated: its token is refused from now on")

    def _webhook(self, options: dict[str, Any]) -> None:
        events = [] if options["all_events"] else options["events"]
        try:
            client, secret = storefront_client_webhook_set(
                client=self._client(options["name"]), url=options["url"], events=events
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        wanted = ", ".join(client.webhook_events) or "all events"
        self.stderr.write(f"webhooks of {client.name}: {client.webhook_url or 'none'} ({wanted})")
        if secret is not None:
            self.stderr.write("its webhook secret (signs every webhook), shown this once:")
            self.stdout.write(secret)

    def _rotate_webhook_secret(self, options: dict[str, Any]) -> None:
        client, secret = storefront_client_webhook_secret_rotate(client=self._client(options["name"]))
        self.stderr.write(
            f"new webhook secret of {client.name} (the old one no longer verifies), shown this once:"
        )
        self.stdout.write(secret)
