"""Admin for operations and support: reference tables, products, rollout, the selling switch.

- Locations, categories, item mappings and safety stock overrides import and export CSV and XLSX
  (django-import-export: upload, preview with every row's errors, confirm), with the resources
  of :mod:`inventory.resources`, so a file behaves as it does with ``manage.py reference``.
- Products: the AS400's fields are read-only and the storefront's editable, both lists taken from
  :mod:`integration.core.ownership`; stock levels and the mapping are shown.
- A category's stage changes through an action (or its form) that calls
  :func:`inventory.rollout.category_set_stage`; the selling switch has its own page. Every change
  is recorded with the user, and the history is read-only.
- Reservations are read-only, for support.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Sum
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ExportForm
from import_export.results import Result

from integration.core.admin_formats import euros
from integration.core.admin_pages import ReadOnlyModelAdmin
from integration.core.ownership import System, fields_owned_by
from inventory.models import (
    Category,
    ItemMapping,
    Location,
    Product,
    Reservation,
    ReservationLine,
    RolloutChange,
    SafetyStockOverride,
    SellingSwitch,
    StockLevel,
)
from inventory.reference import import_problems
from inventory.resources import (
    CategoryResource,
    ItemMappingResource,
    LocationResource,
    ReferenceCSV,
    SafetyStockOverrideResource,
)
from inventory.rollout import (
    SWITCH_FIELD,
    RolloutError,
    category_set_stage,
    selling_pause,
    selling_resume,
    switch_status,
)
from inventory.selectors import availability_by_pair
from inventory.services import category_details_update, product_content_update

AS400_FIELDS = fields_owned_by(System.AS400)
STOREFRONT_FIELDS = fields_owned_by(System.STOREFRONT)


def _location(code: int | None) -> str:
    return "everywhere" if code is None else f"{code:03d}"


# --- Reference tables -----------------------------------------------------------------------------


class ReferenceAdmin(ImportExportModelAdmin):
    """Import (preview, then confirm) and export of a reference table, as CSV or XLSX."""

    import_formats = [ReferenceCSV, XLSX]
    export_formats = [CSV, XLSX]
    export_form_class = ExportForm  # whole rows only: an exported file can always be imported back
    to_encoding = "utf-8-sig"  # so that Excel reads accents in an exported CSV
    import_template_name = "admin/inventory/reference_import.html"

    # What a user must be allowed to do to the table to import a file into it.
    import_needs: tuple[str, ...] = ("add", "change")

    def has_import_permission(self, request: HttpRequest) -> bool:
        return all(
            request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename(action, self.opts)}")
            for action in self.import_needs
        )

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_or_change_permission(request)

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = super().get_import_data_kwargs(**kwargs)
        # All or nothing at confirmation too, should the data have changed since the preview.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        if result.has_errors() or result.has_validation_errors():
            problems = import_problems(result)
            shown = "; ".join(str(p) for p in problems[:5]) + (" …" if len(problems) > 5 else "")
            messages.error(request, gettext("Nothing was imported: {shown}").format(shown=shown))
            return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import"))
        return super().process_result(result, request)


@admin.register(Location)
class LocationAdmin(ReferenceAdmin):
    resource_classes = [LocationResource]
    list_display = ["number", "name", "kind", "click_and_collect"]
    list_display_links = ["number", "name"]
    list_editable = ["click_and_collect"]
    list_filter = ["kind", "click_and_collect"]
    search_fields = ["name", "=code"]

    @admin.display(description=_("number"), ordering="code")
    def number(self, obj: Location) -> str:
        return f"{obj.code:03d}"


def rollout_value_label(change: RolloutChange, value: str) -> str:
    """A stage or the switch's state as staff read it ("Pilot", "selling"), not its code."""
    if change.what == SWITCH_FIELD:
        return gettext("selling") if value == "true" else gettext("paused") if value == "false" else value
    try:
        return str(Category.Stage(value).label)
    except ValueError:
        return value


class RolloutValues:
    """The old and new values of a rollout change, by their labels (a list's or an inline's columns)."""

    @admin.display(description=_("old value"), ordering="old_value")
    def old_label(self, obj: RolloutChange) -> str:
        return rollout_value_label(obj, obj.old_value)

    @admin.display(description=_("new value"), ordering="new_value")
    def new_label(self, obj: RolloutChange) -> str:
        return rollout_value_label(obj, obj.new_value)


class RolloutChangeInline(RolloutValues, admin.TabularInline):
    model = RolloutChange
    verbose_name = _("rollout change")
    verbose_name_plural = _("rollout history")
    fields = readonly_fields = ("changed_at", "old_label", "new_label", "changed_by_name", "note")
    ordering = ["-changed_at", "-pk"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Category.Stage.choices, label=_("New stage"))
    note = forms.CharField(max_length=200, required=False, label=_("Note"), help_text=_("Why, for the record."))


class CategoryForm(ModelForm):
    note = forms.CharField(
        max_length=200, required=False, help_text=_("Why the stage changes, for the record (when it does).")
    )

    class Meta:
        model = Category
        fields = ["name", "rollout_stage", "safety_stock"]


@admin.register(Category)
class CategoryAdmin(ReferenceAdmin):
    resource_classes = [CategoryResource]
    import_needs = ("change",)  # a categories file only updates families the AS400 created
    form = CategoryForm
    list_display = [
        "family_code",
        "label",
        "rollout_stage",
        "safety_stock",
        "product_total",
        "ready_total",
        "history",
    ]
    list_filter = ["rollout_stage"]
    search_fields = ["family_code", "name"]
    fields = ["family_code", "name", "rollout_stage", "note", "safety_stock"]
    readonly_fields = ["family_code"]
    actions = ["set_stage"]
    inlines = [RolloutChangeInline]

    @admin.display(description=_("name"), ordering="name")
    def label(self, obj: Category) -> str:
        """Its name, or that it has none: ITMMST carries only the family's code (the categories
        file names them)."""
        return obj.name or gettext("(no name)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        ready = Q(products__status=Product.Status.ACTIVE, products__mapping__isnull=False)
        return (
            super()
            .get_queryset(request)
            .annotate(
                product_count=Count("products", distinct=True),
                ready_count=Count("products", filter=ready, distinct=True),
            )
        )

    @admin.display(description=_("products"), ordering="product_count")
    def product_total(self, obj: Any) -> int:
        return obj.product_count

    @admin.display(description=_("active and mapped"), ordering="ready_count")
    def ready_total(self, obj: Any) -> int:
        return obj.ready_count

    @admin.display(description=_("rollout history"))
    def history(self, obj: Category) -> str:
        url = reverse("admin:inventory_rolloutchange_changelist") + f"?category__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("history"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one category per AS400 family: the item master creates them, at stage off

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Category, form: ModelForm, change: bool) -> None:
        """Name and safety stock saved as usual; a stage change through the service that records it."""
        stage = obj.rollout_stage
        obj.rollout_stage = form.initial.get("rollout_stage", stage)
        category_details_update(category=obj, name=obj.name, safety_stock=obj.safety_stock)
        if "rollout_stage" in form.changed_data:  # else a stage changed meanwhile elsewhere is kept
            note = form.cleaned_data.get("note") or gettext("changed on the category's page")
            category_set_stage(category=obj, stage=stage, user=request.user, note=note)

    @admin.action(description=_("Set the rollout stage of the selected categories…"), permissions=["change"])
    def set_stage(self, request: HttpRequest, queryset: QuerySet[Category]) -> HttpResponse | None:
        form = StageForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            stage, note = form.cleaned_data["stage"], form.cleaned_data["note"]
            moved = [
                category.family_code
                for category in queryset.order_by("pk")
                if category_set_stage(category=category, stage=stage, user=request.user, note=note)
            ]
            unchanged = queryset.count() - len(moved)
            label = str(Category.Stage(stage).label).lower()  # the stage as staff read it, not its code
            text = gettext("{len} moved to {stage}").format(len=len(moved), stage=label) + (f" ({', '.join(moved)})" if moved else "")
            if unchanged:
                text += gettext("; {unchanged} already {stage}, left as they were").format(unchanged=unchanged, stage=label)
            self.message_user(request, text + ".", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Set the rollout stage"),
            "opts": self.opts,
            "categories": queryset.order_by("family_code"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": "set_stage",
        }
        return TemplateResponse(request, "admin/inventory/category/set_stage.html", context)


@admin.register(ItemMapping)
class ItemMappingAdmin(ReferenceAdmin):
    resource_classes = [ItemMappingResource]
    list_display = ["sku", "item", "description", "category", "created_at"]
    list_filter = ["product__category__rollout_stage", "product__status"]
    search_fields = ["sku", "product__item_number", "product__as400_description", "product__title"]
    list_select_related = ["product__category"]
    autocomplete_fields = ["product"]

    @admin.display(description=_("item"), ordering="product__item_number")
    def item(self, obj: ItemMapping) -> str:
        return obj.product.item_number

    @admin.display(description=_("AS400 description"))
    def description(self, obj: ItemMapping) -> str:
        return obj.product.as400_description

    @admin.display(description=_("category"), ordering="product__category__family_code")
    def category(self, obj: ItemMapping) -> str:
        category = obj.product.category
        return f"{category} ({category.rollout_stage})" if category else "-"


@admin.register(SafetyStockOverride)
class SafetyStockOverrideAdmin(ReferenceAdmin):
    resource_classes = [SafetyStockOverrideResource]
    list_display = ["item", "where", "quantity"]
    list_filter = [("location", admin.EmptyFieldListFilter), "location"]
    search_fields = ["product__item_number", "product__as400_description"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]

    @admin.display(description=_("item"), ordering="product__item_number")
    def item(self, obj: SafetyStockOverride) -> str:
        return obj.product.item_number

    @admin.display(description=_("location"), ordering="location_id")
    def where(self, obj: SafetyStockOverride) -> str:
        return _location(obj.location_id)


# --- Products -------------------------------------------------------------------------------------


class StockLevelInline(admin.TabularInline):
    """The stock of one product per location, and what is available of it now."""

    model = StockLevel
    fields = readonly_fields = (
        "location",
        "on_hand",
        "promised",
        "in_flight",
        "reserved",
        "safety_stock",
        "available",
        "as_of",
    )
    ordering = ["location_id"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _figures(self, level: StockLevel) -> Any:
        cache: dict[tuple[int, int], Any] = self.__dict__.setdefault("_availability", {})
        pair = (level.product_id, level.location_id)
        if pair not in cache:  # every location of the product at once: one computation per page
            pairs = StockLevel.objects.filter(product_id=level.product_id).values_list(
                "product_id", "location_id"
            )
            cache.update(availability_by_pair(list(pairs)))
        return cache[pair]

    @admin.display(description=_("safety stock"))
    def safety_stock(self, obj: StockLevel) -> int:
        return self._figures(obj).safety_stock

    @admin.display(description=_("available"))
    def available(self, obj: StockLevel) -> int:
        return self._figures(obj).available


class SafetyStockOverrideInline(admin.TabularInline):
    model = SafetyStockOverride
    fields = ["location", "quantity"]
    extra = 0
    verbose_name_plural = _("safety stock overrides (no location: everywhere)")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """AS400-owned fields read-only, storefront-owned ones editable: one declaration, in ownership."""

    list_display = ["item_number", "sku", "as400_description", "title", "category", "price_euros", "status"]
    list_filter = ["status", "category__rollout_stage", ("mapping", admin.EmptyFieldListFilter), "category"]
    search_fields = ["item_number", "ean", "as400_description", "title", "mapping__sku"]
    list_select_related = ["category", "mapping"]
    readonly_fields = [*AS400_FIELDS, "sku", "created_at", "updated_at"]
    fieldsets = [
        (_("From the AS400 (read-only)"), {"fields": AS400_FIELDS}),
        ("Storefront", {"fields": STOREFRONT_FIELDS}),
        ("Mapping", {"fields": ["sku"]}),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [StockLevelInline, SafetyStockOverrideInline]

    @admin.display(description=_("price"), ordering="price")
    def price_euros(self, obj: Product) -> str:
        return euros(obj.price)

    @admin.display(description=_("SKU"), ordering="mapping__sku")
    def sku(self, obj: Product) -> str:
        mapping = getattr(obj, "mapping", None)
        if mapping is None:
            return gettext("not mapped: the storefront does not see this item")
        url = reverse("admin:inventory_itemmapping_change", args=[mapping.pk])
        return format_html('<a href="{}">{}</a>', url, mapping.sku)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # items come from the AS400's item master

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm, change: bool) -> None:
        """Write only the storefront fields the form changed, never a whole row.

        A whole-row save would write back the AS400 figures as they were when the page was read,
        over whatever an extract applied since.
        """
        changed = list(form.changed_data)
        if changed:  # the service refuses a field the storefront does not own
            product_content_update(product=obj, content={name: getattr(obj, name) for name in changed})


# --- Rollout history and the selling switch -------------------------------------------------------


@admin.register(RolloutChange)
class RolloutChangeAdmin(RolloutValues, ReadOnlyModelAdmin):
    list_display = ["changed_at", "subject", "old_label", "new_label", "who", "note"]
    list_filter = ["what", ("category", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["category__family_code", "category__name", "changed_by_name", "note"]
    date_hierarchy = "changed_at"
    list_select_related = ["category", "changed_by"]
    readonly_fields = [f.name for f in RolloutChange._meta.fields]

    @admin.display(description=_("what"), ordering="category__family_code")
    def subject(self, obj: RolloutChange) -> str:
        if obj.what == SWITCH_FIELD:
            return gettext("online selling")
        return gettext("{category}: stage").format(category=obj.category) if obj.category else obj.what

    @admin.display(description=_("who"), ordering="changed_by_name")
    def who(self, obj: RolloutChange) -> str:
        return obj.changed_by_name + ("" if obj.changed_by_id else gettext(" (command line)"))


class SwitchForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False, widget=forms.TextInput(attrs={"size": 60}))


@admin.register(SellingSwitch)
class SellingSwitchAdmin(admin.ModelAdmin):
    """One page: whether online selling is on, pause or resume with a reason, and the history."""

    def get_urls(self) -> list[Any]:
        return [
            path(
                "",
                self.admin_site.admin_view(self.switch_view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_changelist",
            )
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def switch_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        form = SwitchForm(request.POST or None)
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            if form.is_valid():
                self._switch(request, request.POST.get("op", ""), form.cleaned_data["reason"])
                return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Online selling"),
            "opts": self.opts,
            "status": switch_status(),
            "form": form,
            "can_change": self.has_change_permission(request),
            "changes": RolloutChange.objects.filter(what=SWITCH_FIELD)
            .select_related("changed_by")
            .order_by("-changed_at", "-pk")[:20],
        }
        return TemplateResponse(request, "admin/inventory/sellingswitch/switch.html", context)

    def _switch(self, request: HttpRequest, op: str, reason: str) -> None:
        try:
            if op == "pause":
                change = selling_pause(reason=reason, user=request.user)
                done, already = gettext("Online selling is paused."), gettext("Online selling was already paused.")
            elif op == "resume":
                change = selling_resume(reason=reason, user=request.user)
                done, already = gettext("Online selling is resumed."), gettext("Online selling was not paused.")
            else:
                messages.error(request, gettext("Choose pause or resume."))
                return
        except RolloutError as exc:
            messages.error(request, str(exc))
            return
        if change is None:
            messages.warning(request, gettext("{already} Nothing changed.").format(already=already))
        else:
            messages.success(request, done)


# --- Reservations, for support --------------------------------------------------------------------


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    fields = readonly_fields = ("product", "location", "quantity", "unit_price", "expires_at", "active")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "client", "status", "units", "expires_at", "created_at"]
    list_filter = ["status", "client"]
    search_fields = [
        "client",
        "idempotency_key",
        "lines__product__item_number",
        "lines__product__mapping__sku",
    ]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Reservation._meta.fields]
    inlines = [ReservationLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reservation]:
        return super().get_queryset(request).annotate(unit_count=Sum("lines__quantity"))

    @admin.display(description=_("units"), ordering="unit_count")
    def units(self, obj: Any) -> int:
        return obj.unit_count or 0
