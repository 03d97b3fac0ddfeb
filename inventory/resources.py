"""The reference tables operations maintain, as CSV and XLSX files (django-import-export).

One resource per table: locations (key ``code``), categories (key ``family_code``), item mappings
(``item_number`` ↔ ``sku``) and safety stock overrides (``item_number`` and ``location``, empty
for everywhere). The admin and ``manage.py reference`` use the same resources, so a file behaves
the same in both.

A file is checked row by row and every problem is reported against its row and column, naming
the value (unknown item, SKU already mapped to another item, the same item twice in the file...).
Rows are numbered from 1 after the header, as the admin's preview numbers them; a row ``n`` is
line ``n + 1`` of a CSV file or of the spreadsheet. Whoever runs an import applies it whole or not
at all: the admin's preview refuses to confirm a file with errors, the command rolls back.

Categories come from the AS400 item master (a new family appears at stage ``off``), so a category
file only updates families that exist; a stage it changes is changed through
:func:`inventory.rollout.category_set_stage`, which records who did it, exactly as the admin's
action does.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

import tablib
from django.core.exceptions import ValidationError
from django.db.models import F, Model, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.fields import Field
from import_export.formats.base_formats import CSV
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import RowResult
from import_export.widgets import Widget

from inventory.models import Category, ItemMapping, Location, Product, SafetyStockOverride
from inventory.rollout import category_set_stage

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

MAX_UNITS = 2_147_483_647  # a PositiveIntegerField on every database
LOOKUP_CHUNK = 2000


# --- Cells ----------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as text: a spreadsheet's 12345.0 is ``12345``, an empty cell ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def rows_phrase(rows: list[int]) -> str:
    listed = [str(n) for n in rows]
    if len(listed) == 1:
        return gettext("row {row}").format(row=listed[0])
    return gettext("rows {rows} and {last}").format(rows=", ".join(listed[:-1]), last=listed[-1])


def csv_dataset(text: str) -> tablib.Dataset:
    """A CSV file as a dataset, whether its cells are separated by ``,`` or (French Excel) ``;``.

    A blank line stays a row of empty cells, so that row ``n`` is always line ``n + 1``.
    """
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    dataset = tablib.Dataset()
    if not rows:
        return dataset
    headers = rows[0]
    while headers and not headers[-1].strip():  # a spreadsheet's trailing empty header cells
        headers = headers[:-1]
    dataset.headers = headers
    width = len(headers)
    for line, row in enumerate(rows[1:], 2):
        if len(row) > width:
            if any(cell.strip() for cell in row[width:]):
                raise ValueError(
                    gettext("line {line} has {cells} cells but the header has {width} columns").format(
                        line=line, cells=len(row), width=width
                    )
                )
            row = row[:width]
        dataset.append(row + [""] * (width - len(row)))
    return dataset


def csv_text(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without a byte order mark), else Windows-1252 (Excel's)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class ReferenceCSV(CSV):
    """CSV as people save it: comma or semicolon separated, UTF-8 or Windows-1252.

    Read as bytes (hence "binary") so that the encoding is worked out here rather than failing
    on a file Excel saved in Windows-1252.
    """

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: str | bytes, **kwargs: Any) -> tablib.Dataset:
        return csv_dataset(csv_text(in_stream) if isinstance(in_stream, bytes) else in_stream)


# --- Widgets: one cell ↔ one value, with errors that name the value --------------------------------


class TextWidget(Widget):
    def __init__(self, *, label: StrOrPromise, max_length: int, required: bool = True) -> None:
        super().__init__()
        self.label, self.max_length, self.required = label, max_length, required

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = cell_text(value)
        if not text and self.required:
            raise ValueError(gettext("the {label} is empty").format(label=self.label))
        if len(text) > self.max_length:
            raise ValueError(gettext("{text!r} is longer than {limit} characters").format(text=text, limit=self.max_length))
        return text

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class UnitsWidget(Widget):
    """A whole number of units, 0 or more."""

    def __init__(self, *, label: StrOrPromise) -> None:
        super().__init__()
        self.label = label

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int:
        text = cell_text(value)
        if not text:
            raise ValueError(gettext("the {label} is empty").format(label=self.label))
        if not text.isdigit():
            raise ValueError(gettext("{text!r} is not a whole number of units (0 or more)").format(text=text))
        units = int(text)
        if units > MAX_UNITS:
            raise ValueError(gettext("{text!r} is too large").format(text=text))
        return units

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> int | str:
        return "" if value is None else int(value)


class ChoiceWidget(Widget):
    def __init__(self, *, label: StrOrPromise, choices: Iterable[str]) -> None:
        super().__init__()
        self.label, self.choices = label, list(choices)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = cell_text(value).lower()
        if text not in self.choices:
            options = gettext("{choices} or {last}").format(choices=", ".join(self.choices[:-1]), last=self.choices[-1])
            raise ValueError(
                gettext("{text!r} is not a {label}: use {options}").format(
                    text=cell_text(value), label=self.label, options=options
                )
            )
        return text


class YesNoWidget(Widget):
    YES = frozenset({"yes", "y", "true", "1", "oui", "o", "x"})
    NO = frozenset({"no", "n", "false", "0", "non", ""})

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = cell_text(value).lower()
        if text in self.YES:
            return True
        if text in self.NO:
            return False
        raise ValueError(gettext("{text!r} is neither yes nor no").format(text=cell_text(value)))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "yes" if value else "no"


def location_code(value: Any) -> int:
    """A location number as written in a file: ``7``, ``007`` or ``7.0``."""
    text = cell_text(value)
    if not text.isdigit() or not 1 <= int(text) <= 999:
        raise ValueError(gettext("{text!r} is not a location number (001 to 999)").format(text=text))
    return int(text)


class LocationCodeWidget(Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int:
        return location_code(value)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else f"{value:03d}"


class LocationWidget(Widget):
    """A location by its number; an empty cell means everywhere when ``everywhere`` is set."""

    def __init__(self, *, everywhere: bool = False) -> None:
        super().__init__()
        self.everywhere = everywhere
        self.known: dict[int, Location] | None = None  # filled for an import, by the resource

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Location | None:
        text = cell_text(value)
        if not text and self.everywhere:
            return None
        code = location_code(value)
        found = self.known.get(code) if self.known is not None else Location.objects.filter(pk=code).first()
        if found is None:
            raise ValueError(gettext("unknown location {text!r}").format(text=text))
        return found

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else f"{value.code:03d}"


class ItemWidget(Widget):
    """A product by its AS400 item number."""

    def __init__(self) -> None:
        super().__init__()
        self.known: dict[str, Product] | None = None  # filled for an import, by the resource

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Product:
        number = cell_text(value)
        if not number:
            raise ValueError(gettext("the item number is empty"))
        if self.known is not None:
            found = self.known.get(number)
        else:
            found = Product.objects.filter(item_number=number).first()
        if found is None:
            raise ValueError(gettext("unknown item {number!r}").format(number=number))
        return found

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else value.item_number


# --- The common part ------------------------------------------------------------------------------


class _ResourceLoader(BaseInstanceLoader):
    """Finds a row's existing instance through the resource's own lookup (cached per import)."""

    def get_instance(self, row: dict[str, Any]) -> Model | None:
        return self.resource.find_instance(row)


class ReferenceResource(resources.ModelResource):
    """What every reference table shares: headers, row-level errors by column, file duplicates.

    A subclass says which columns a file must have (``required_columns``), how to find a row's
    existing instance (:meth:`find_instance`), what to load before the rows (:meth:`prepare`) and
    what else to check on a row (:meth:`check_row`). Errors are ``ValidationError`` keyed by the
    file's column names, so that the admin's preview and the command's report show them on the
    column that holds the value.
    """

    label = "row"
    required_columns: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._new = False
        self._refused = False
        self._rows: dict[str, dict[Hashable, list[int]]] = {}

    # The file as a whole.

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        self._refused = True  # until the file's shape is known to be right
        headers = [cell_text(h).lower().replace(" ", "_") for h in dataset.headers or []]
        if not any(headers):
            raise ValueError(gettext("the file is empty: it has no header row"))
        dataset.headers = headers
        while len(dataset) and not any(cell_text(c) for c in dataset[-1]):
            del dataset[-1]  # trailing empty rows, as spreadsheets leave them
        missing = [c for c in self.required_columns if c not in headers]
        if missing:
            raise ValueError(
                gettext(
                    "the file has no column {missing}: a {label} file has the columns {columns} (this one has {found})"
                ).format(
                    missing=", ".join(missing), label=self.label, columns=", ".join(self.get_export_headers()),
                    found=", ".join(h for h in headers if h),
                )
            )  # fmt: skip
        self.prepare(dataset)
        self._refused = False

    def prepare(self, dataset: tablib.Dataset) -> None:
        """Load what the rows will look up, once, and note keys the file repeats."""

    def column(self, dataset: tablib.Dataset, name: str) -> list[str]:
        return [cell_text(v) for v in dataset[name]] if name in (dataset.headers or []) else []

    def note_repeats(self, name: str, keys: Iterable[Hashable]) -> None:
        """Remember the rows of every key that appears on more than one row."""
        rows: dict[Hashable, list[int]] = defaultdict(list)
        for number, key in enumerate(keys, 1):
            if key not in (None, ""):
                rows[key].append(number)
        self._rows[name] = {key: numbers for key, numbers in rows.items() if len(numbers) > 1}

    def repeated(self, name: str, key: Hashable) -> list[int]:
        return self._rows.get(name, {}).get(key, [])

    # One row.

    def find_instance(self, row: dict[str, Any]) -> Model | None:
        raise NotImplementedError

    def check_row(
        self, instance: Any, row: dict[str, Any], errors: dict[str, list[str]], *, new: bool
    ) -> None:
        """Add the row's problems beyond single cells (unknown key, repeats...) to ``errors``."""

    def import_row(self, row: dict[str, Any], instance_loader: Any, **kwargs: Any) -> RowResult:
        if self._refused:  # the file itself was refused: its rows are not worth a report each
            result = self.get_row_result_class()()
            result.import_type = RowResult.IMPORT_TYPE_SKIP
            return result
        return super().import_row(row, instance_loader, **kwargs)

    def after_init_instance(self, instance: Any, new: bool, row: Any, **kwargs: Any) -> None:
        self._new = new

    def import_instance(self, instance: Any, row: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = defaultdict(list)
        for field in self.get_import_fields():
            if field.column_name not in row:
                continue
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as exc:
                errors[field.column_name].append(str(exc))
        self.check_row(instance, row, errors, new=self._new)
        if errors:
            raise ValidationError({column: messages for column, messages in errors.items()})

    def _save_allowed(self, kwargs: dict[str, Any]) -> bool:
        return self._is_using_transactions(kwargs) or not self._is_dry_run(kwargs)


def _in_chunks(values: list[str], load: Callable[[list[str]], Iterable[Any]]) -> list[Any]:
    found: list[Any] = []
    for start in range(0, len(values), LOOKUP_CHUNK):
        found.extend(load(values[start : start + LOOKUP_CHUNK]))
    return found


# --- Locations ------------------------------------------------------------------------------------


class LocationResource(ReferenceResource):
    label = "locations"
    required_columns = ("code",)

    code = Field(attribute="code", column_name="code", widget=LocationCodeWidget())
    name = Field(attribute="name", column_name="name", widget=TextWidget(label=_("name"), max_length=80))
    kind = Field(
        attribute="kind",
        column_name="kind",
        widget=ChoiceWidget(label=_("kind of location"), choices=Location.Kind.values),
    )
    click_and_collect = Field(
        attribute="click_and_collect", column_name="click_and_collect", widget=YesNoWidget()
    )

    class Meta:
        model = Location
        fields = ("code", "name", "kind", "click_and_collect")
        import_id_fields = ("code",)
        instance_loader_class = _ResourceLoader
        skip_unchanged = True
        report_skipped = True

    def prepare(self, dataset: tablib.Dataset) -> None:
        self._known = {loc.code: loc for loc in Location.objects.all()}
        codes: list[Hashable] = []
        for text in self.column(dataset, "code"):
            try:
                codes.append(location_code(text))
            except ValueError:
                codes.append(text)
        self.note_repeats("code", codes)

    def find_instance(self, row: dict[str, Any]) -> Location | None:
        try:
            return self._known.get(location_code(row.get("code")))
        except ValueError:
            return None

    def check_row(
        self, instance: Location, row: dict[str, Any], errors: dict[str, list[str]], *, new: bool
    ) -> None:
        if "code" not in errors and (rows := self.repeated("code", instance.code)):
            errors["code"].append(
                gettext("location {code} is on {rows} of the file").format(code=f"{instance.code:03d}", rows=rows_phrase(rows))
            )
        if new and not instance.name and "name" not in errors:
            errors["name"].append(
                gettext("a new location needs a name (location {code})").format(code=cell_text(row.get("code")))
            )


# --- Categories -----------------------------------------------------------------------------------


class CategoryResource(ReferenceResource):
    label = "categories"
    required_columns = ("family_code",)

    family_code = Field(
        attribute="family_code",
        column_name="family_code",
        widget=TextWidget(label=_("family code"), max_length=4),
    )
    name = Field(
        attribute="name", column_name="name", widget=TextWidget(label=_("name"), max_length=80, required=False)
    )
    rollout_stage = Field(
        attribute="rollout_stage",
        column_name="rollout_stage",
        widget=ChoiceWidget(label=_("rollout stage"), choices=Category.Stage.values),
    )
    safety_stock = Field(
        attribute="safety_stock", column_name="safety_stock", widget=UnitsWidget(label=_("safety stock"))
    )

    class Meta:
        model = Category
        fields = ("family_code", "name", "rollout_stage", "safety_stock")
        import_id_fields = ("family_code",)
        instance_loader_class = _ResourceLoader
        skip_unchanged = True
        report_skipped = True

    def prepare(self, dataset: tablib.Dataset) -> None:
        self._known = {c.family_code: c for c in Category.objects.all()}
        self.note_repeats("family_code", self.column(dataset, "family_code"))

    def find_instance(self, row: dict[str, Any]) -> Category | None:
        return self._known.get(cell_text(row.get("family_code")))

    def check_row(
        self, instance: Category, row: dict[str, Any], errors: dict[str, list[str]], *, new: bool
    ) -> None:
        if "family_code" in errors:
            return
        code = instance.family_code
        if new:
            refusal = (
                gettext("unknown family {code!r} (did you mean {upper!r}?): families come from the AS400 item master")
                if code.upper() in self._known
                else gettext("unknown family {code!r}: families come from the AS400 item master")
            )
            errors["family_code"].append(refusal.format(code=code, upper=code.upper()))
        elif rows := self.repeated("family_code", code):
            errors["family_code"].append(
                gettext("family {code!r} is on {rows} of the file").format(code=code, rows=rows_phrase(rows))
            )

    def save_instance(self, instance: Category, is_create: bool, row: dict[str, Any], **kwargs: Any) -> None:
        """Name and safety stock as they are; the stage through the service that records it."""
        if not self._save_allowed(kwargs):
            return
        Category.objects.filter(pk=instance.pk).update(name=instance.name, safety_stock=instance.safety_stock)
        file_name = kwargs.get("file_name") or ""
        category_set_stage(
            category=instance,
            stage=instance.rollout_stage,
            user=kwargs.get("user"),
            actor_name=kwargs.get("actor_name") or "",
            note=f"import of {file_name}" if file_name else "import",
        )


# --- Item mappings --------------------------------------------------------------------------------


class ItemMappingResource(ReferenceResource):
    """``item_number`` → ``sku``: the SKU the storefronts know an AS400 item by.

    A SKU belongs to one item: to move a SKU from one item to another, give the first item its new
    SKU on an earlier row of the same file (rows are applied in order).
    """

    label = "mappings"
    required_columns = ("item_number", "sku")

    item_number = Field(attribute="product", column_name="item_number", widget=ItemWidget())
    sku = Field(attribute="sku", column_name="sku", widget=TextWidget(label=_("SKU"), max_length=64))

    class Meta:
        model = ItemMapping
        fields = ("item_number", "sku")
        import_id_fields = ("item_number",)
        instance_loader_class = _ResourceLoader
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self) -> QuerySet[ItemMapping]:
        return ItemMapping.objects.select_related("product").order_by("product__item_number")

    def prepare(self, dataset: tablib.Dataset) -> None:
        items = sorted(set(self.column(dataset, "item_number")) - {""})
        skus = sorted(set(self.column(dataset, "sku")) - {""})
        products = _in_chunks(items, lambda chunk: Product.objects.filter(item_number__in=chunk))
        self.fields["item_number"].widget.known = {p.item_number: p for p in products}
        mappings = _in_chunks(
            items,
            lambda chunk: ItemMapping.objects.filter(product__item_number__in=chunk).select_related(
                "product"
            ),
        )
        self._by_item: dict[str, ItemMapping] = {m.product.item_number: m for m in mappings}
        owners = _in_chunks(
            skus,
            lambda chunk: ItemMapping.objects.filter(sku__in=chunk).values_list(
                "sku", "product__item_number"
            ),
        )
        self._owner_of_sku: dict[str, str] = dict(owners)
        self.note_repeats("item_number", self.column(dataset, "item_number"))
        self.note_repeats("sku", self.column(dataset, "sku"))

    def find_instance(self, row: dict[str, Any]) -> ItemMapping | None:
        return self._by_item.get(cell_text(row.get("item_number")))

    def after_init_instance(self, instance: ItemMapping, new: bool, row: Any, **kwargs: Any) -> None:
        super().after_init_instance(instance, new, row, **kwargs)
        self._old_sku = instance.sku

    def check_row(
        self, instance: ItemMapping, row: dict[str, Any], errors: dict[str, list[str]], *, new: bool
    ) -> None:
        item = cell_text(row.get("item_number"))
        if "item_number" not in errors and (rows := self.repeated("item_number", item)):
            errors["item_number"].append(
                gettext("item {item!r} is mapped on {rows} of the file: an item has one SKU").format(
                    item=item, rows=rows_phrase(rows)
                )
            )
        if "sku" in errors:
            return
        sku = instance.sku
        if rows := self.repeated("sku", sku):
            errors["sku"].append(
                gettext("SKU {sku!r} is on {rows} of the file: a SKU names one item").format(sku=sku, rows=rows_phrase(rows))
            )
        elif (owner := self._owner_of_sku.get(sku)) is not None and owner != item:
            errors["sku"].append(gettext("SKU {sku!r} is already mapped to item {owner!r}").format(sku=sku, owner=owner))

    def save_instance(
        self, instance: ItemMapping, is_create: bool, row: dict[str, Any], **kwargs: Any
    ) -> None:
        super().save_instance(instance, is_create, row, **kwargs)
        # Later rows see this row's SKU taken, and its old SKU free.
        if self._old_sku and self._owner_of_sku.get(self._old_sku) == instance.product.item_number:
            del self._owner_of_sku[self._old_sku]
        self._owner_of_sku[instance.sku] = instance.product.item_number
        self._by_item[instance.product.item_number] = instance


# --- Safety stock overrides -----------------------------------------------------------------------


class SafetyStockOverrideResource(ReferenceResource):
    """Safety stock for one item at one location, or (``location`` empty) at every location."""

    label = "safety-stock"
    required_columns = ("item_number", "location", "quantity")

    item_number = Field(attribute="product", column_name="item_number", widget=ItemWidget())
    location = Field(attribute="location", column_name="location", widget=LocationWidget(everywhere=True))
    quantity = Field(attribute="quantity", column_name="quantity", widget=UnitsWidget(label=_("quantity")))

    class Meta:
        model = SafetyStockOverride
        fields = ("item_number", "location", "quantity")
        import_id_fields = ("item_number", "location")
        instance_loader_class = _ResourceLoader
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self) -> QuerySet[SafetyStockOverride]:
        # An item's override for everywhere first, then by location, on every database.
        return SafetyStockOverride.objects.select_related("product", "location").order_by(
            "product__item_number", F("location_id").asc(nulls_first=True)
        )

    @staticmethod
    def _pair(item: str, location: Any) -> tuple[str, int | str | None]:
        text = cell_text(location)
        if not text:
            return item, None
        try:
            return item, location_code(text)
        except ValueError:
            return item, text

    def prepare(self, dataset: tablib.Dataset) -> None:
        items = sorted(set(self.column(dataset, "item_number")) - {""})
        products = _in_chunks(items, lambda chunk: Product.objects.filter(item_number__in=chunk))
        self.fields["item_number"].widget.known = {p.item_number: p for p in products}
        self.fields["location"].widget.known = {loc.code: loc for loc in Location.objects.all()}
        overrides = _in_chunks(
            items,
            lambda chunk: SafetyStockOverride.objects.filter(product__item_number__in=chunk).select_related(
                "product"
            ),
        )
        self._by_pair = {(o.product.item_number, o.location_id): o for o in overrides}
        self.note_repeats(
            "pair",
            [
                self._pair(item, location)
                for item, location in zip(
                    self.column(dataset, "item_number"), self.column(dataset, "location"), strict=True
                )
            ],
        )

    def find_instance(self, row: dict[str, Any]) -> SafetyStockOverride | None:
        return self._by_pair.get(self._pair(cell_text(row.get("item_number")), row.get("location")))  # type: ignore[arg-type]

    def check_row(
        self, instance: SafetyStockOverride, row: dict[str, Any], errors: dict[str, list[str]], *, new: bool
    ) -> None:
        if "item_number" in errors or "location" in errors:
            return
        item, location = self._pair(cell_text(row.get("item_number")), row.get("location"))
        if rows := self.repeated("pair", (item, location)):
            repeated = (
                gettext("item {item!r} everywhere is on {rows} of the file")
                if location is None
                else gettext("item {item!r} at {location} is on {rows} of the file")
            )
            errors["item_number"].append(
                repeated.format(item=item, location=f"{location or 0:03d}", rows=rows_phrase(rows))
            )

    def save_instance(
        self, instance: SafetyStockOverride, is_create: bool, row: dict[str, Any], **kwargs: Any
    ) -> None:
        super().save_instance(instance, is_create, row, **kwargs)
        self._by_pair[(instance.product.item_number, instance.location_id)] = instance


RESOURCES: dict[str, type[ReferenceResource]] = {
    "locations": LocationResource,
    "categories": CategoryResource,
    "mappings": ItemMappingResource,
    "safety-stock": SafetyStockOverrideResource,
}
