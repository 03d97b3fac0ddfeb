"""Locations, categories and their rollout, products and mappings, stock levels, reservations.

Availability for one product at one location (see ARCHITECTURE.md)::

    available = on_hand - promised - in_flight - reserved - safety_stock   (never below 0)

``on_hand``/``promised``/``as_of`` come from the newest STKBAL record applied (:class:`StockLevel`);
``reserved`` is the sum of unexpired reservation lines; ``in_flight`` comes from order lines (the
orders app). Field ownership (which system may write which field of a product) is declared once
in :mod:`integration.core.ownership`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.validators import validate_attributes


class Location(models.Model):
    """A store (001-030) or the central warehouse (900), by its AS400 number."""

    class Kind(models.TextChoices):
        STORE = "store", _("Store")
        WAREHOUSE = "warehouse", _("Warehouse")

    code = models.PositiveSmallIntegerField(_("code"), primary_key=True, help_text=_("AS400 location number (SBMAG)"))
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.STORE)
    click_and_collect = models.BooleanField(_("click and collect"), default=False, help_text=_("Sells its own stock for collection"))

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code:03d} {self.name}"


class Category(models.Model):
    """One AS400 family, and how far it is rolled out online."""

    class Stage(models.TextChoices):
        OFF = "off", _("Off")
        PILOT = "pilot", _("Pilot")
        LIVE = "live", _("Live")

    family_code = models.CharField(_("family code"), max_length=4, unique=True, help_text=_("AS400 family (IMFAMC)"))
    name = models.CharField(_("name"), max_length=80, blank=True)
    rollout_stage = models.CharField(_("rollout stage"), max_length=5, choices=Stage.choices, default=Stage.OFF)
    safety_stock = models.PositiveIntegerField(_("safety stock"),
        default=0, help_text=_("Units kept back at every location to absorb store sales between extracts")
    )

    class Meta:
        verbose_name = _("category")
        ordering = ["family_code"]
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return f"{self.family_code} {self.name}".strip()


class Product(models.Model):
    """An AS400 item with its storefront content. Who may write which field: integration.core.ownership."""

    class Status(models.TextChoices):
        ACTIVE = "A", _("Active")
        SUSPENDED = "S", _("Suspended")
        DELISTED = "D", _("Deleted")

    # AS400-owned
    item_number = models.CharField(_("item number"), max_length=15, unique=True, help_text=_("AS400 item code (IMITEM)"))
    ean = models.CharField(_("EAN"), max_length=13, blank=True, db_index=True)
    as400_description = models.CharField(_("AS400 description"), max_length=30, blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products", verbose_name=_("category"))
    price = models.DecimalField(_("price"), max_digits=9, decimal_places=2, default=0, help_text=_("Price incl. VAT, euros"))
    vat_code = models.CharField(_("vat code"), max_length=1, blank=True)
    status = models.CharField(_("status"), max_length=1, choices=Status.choices, default=Status.ACTIVE)
    as400_changed_on = models.DateField(_("changed on the AS400"), null=True, blank=True)
    # storefront-owned
    title = models.CharField(_("title"), max_length=200, blank=True)
    long_description = models.TextField(_("long description"), blank=True)
    images = models.JSONField(_("images"), default=list, blank=True)
    attributes = models.JSONField(_("attributes"),
        default=dict, blank=True, validators=[validate_attributes], help_text=_("Merchandising attributes")
    )
    # bookkeeping
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["item_number"]

    def __str__(self) -> str:
        return self.item_number


class ItemMapping(models.Model):
    """AS400 item number ↔ storefront SKU. An unmapped item does not exist for the storefront."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="mapping", verbose_name=_("product"))
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("item mapping")
        verbose_name_plural = _("item mappings")
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} → {self.product_id}"


class StockLevel(models.Model):
    """One product at one location: the newest STKBAL figures, and what the platform holds on it.

    ``on_hand``/``promised``/``as_of`` are written only by STKBAL extracts. ``reserved`` and
    ``in_flight`` are the platform's own counters, moved in the same statement that checks
    availability (see ``inventory.reservations``); they sum the active reservation lines and the
    unsettled order lines, which reconciliation checks every night.
    """

    # No database foreign keys here, deliberately: the one writer of stock rows is the extract
    # applier, whose statements join the products and locations they write for, and checking 1.55
    # million rows against both tables at commit costs more than the whole rest of a full extract.
    # Products are delisted, never deleted; locations are protected by the ORM.
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="stock_levels", db_constraint=False, db_index=False, verbose_name=_("product"))
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="stock_levels", db_constraint=False, db_index=False, verbose_name=_("location"))
    on_hand = models.IntegerField(_("on hand"), default=0, help_text=_("SBQOH; can be negative"))
    promised = models.IntegerField(_("promised"), default=0, help_text=_("SBQRS: what the AS400 has already promised"))
    as_of = models.DateTimeField(_("as of"), help_text=_("When the extract that last changed these figures was taken"))
    reserved = models.IntegerField(_("reserved"),
        default=0, help_text=_("Units of active reservation lines (expired ones until swept)")
    )
    in_flight = models.IntegerField(_("in flight"),
        default=0, help_text=_("Units of web orders the AS400's figures do not count yet")
    )

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stock_level_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.on_hand}/{self.promised}"


class SafetyStockOverride(models.Model):
    """Safety stock for one product, at one location or (location empty) everywhere."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="safety_overrides", verbose_name=_("product"))
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("location"))
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        # Two partial constraints rather than NULLS NOT DISTINCT, which SQLite does not enforce.
        verbose_name = _("safety stock override")
        verbose_name_plural = _("safety stock overrides")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "location"],
                condition=Q(location__isnull=False),
                name="safety_override_unique_pair",
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(location__isnull=True),
                name="safety_override_unique_everywhere",
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.location_id:03d}" if self.location_id is not None else "everywhere"
        return f"{self.product_id} {where}: {self.quantity}"


class Reservation(models.Model):
    """Units held while a customer checks out. Expired reservations simply stop counting."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")
        EXPIRED = "expired", _("Expired")
        CONVERTED = "converted", _("Turned into an order")

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    client = models.CharField(_("client"), max_length=64, blank=True, help_text=_("Storefront client that holds it"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="reservation_unique_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"reservation {self.id} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines", verbose_name=_("reservation"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT, verbose_name=_("location"))
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=9, decimal_places=2, help_text=_("AS400 price when reserved"))
    # Denormalised from the reservation so that "unexpired units per pair" is one indexed sum.
    expires_at = models.DateTimeField(_("expires at"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reservation line")
        verbose_name_plural = _("reservation lines")
        indexes = [
            models.Index(
                fields=["product", "location", "expires_at"],
                condition=Q(active=True),
                name="resline_active_pair",
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}@{self.location_id}"


class SellingSwitch(models.Model):
    """The global switch that pauses all online selling (one row)."""

    selling_enabled = models.BooleanField(_("selling enabled"), default=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("selling switch")
        verbose_name_plural = _("selling switches")

    def __str__(self) -> str:
        return "selling" if self.selling_enabled else f"paused: {self.reason}"


class RolloutChange(models.Model):
    """Who changed a category's stage or the global switch, and when."""

    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="changes", verbose_name=_("category"))
    what = models.CharField(_("what"), max_length=40, help_text=_("rollout_stage or selling_enabled"))
    old_value = models.CharField(_("old value"), max_length=20)
    new_value = models.CharField(_("new value"), max_length=20)
    note = models.CharField(_("note"), max_length=200, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("changed by"))
    changed_by_name = models.CharField(_("changed by name"),
        max_length=150, blank=True, help_text=_("Who, also for command-line changes")
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("rollout change")
        verbose_name_plural = _("rollout changes")
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.what}: {self.old_value} → {self.new_value}"


class LiveCheckCounter(models.Model):
    """How the optional live stock check went: used, lower than the projection, or fallen back (and why)."""

    outcome = models.CharField(_("outcome"), max_length=40, unique=True)
    count = models.PositiveBigIntegerField(_("count"), default=0)
    last_at = models.DateTimeField(_("last at"), default=timezone.now)

    class Meta:
        verbose_name = _("live check counter")
        verbose_name_plural = _("live check counters")
        ordering = ["outcome"]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.count}"
