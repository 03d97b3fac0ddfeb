"""The inventory admin: pages render, AS400 fields stay read-only, every rollout change is recorded.

Driven with Django's test client as a logged-in staff superuser, against the real admin site and
the real database; forms are posted as a browser would post them (the page's own fields).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

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
from inventory.reference import locations_seed_default
from inventory.selectors import selling_enabled

# These tests read the admin's English texts (French is the default): see tests/admin for French.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

REFERENCE_MODELS = ["location", "category", "itemmapping", "safetystockoverride"]


# --- Given ----------------------------------------------------------------------------------------


@pytest.fixture
def boss(db: None) -> User:
    return get_user_model().objects.create_superuser("claire", "claire@example.com", "x")


@pytest.fixture
def staff(client: Client, boss: User) -> Client:
    client.force_login(boss)
    return client


@pytest.fixture
def shop(db: None) -> dict[str, Any]:
    locations_seed_default()
    grocery = Category.objects.create(family_code="F001", name="Épicerie")
    drinks = Category.objects.create(family_code="F002", name="Boissons", rollout_stage="live")
    jam = Product.objects.create(
        item_number="A1", ean="3017620422003", as400_description="CONFITURE FRAISE", category=grocery,
        price=Decimal("4.99"), vat_code="1", title="Confiture de fraises",
    )  # fmt: skip
    Product.objects.create(item_number="A2", category=drinks, price=Decimal("2.00"))
    mapping = ItemMapping.objects.create(product=jam, sku="SKU-A1")
    now = timezone.now()
    StockLevel.objects.create(product=jam, location_id=1, on_hand=10, promised=1, as_of=now)
    StockLevel.objects.create(product=jam, location_id=900, on_hand=50, promised=0, reserved=3, as_of=now)
    override = SafetyStockOverride.objects.create(product=jam, location_id=1, quantity=2)
    reservation = Reservation.objects.create(client="web", expires_at=now + timedelta(minutes=15))
    ReservationLine.objects.create(
        reservation=reservation, product=jam, location_id=900, quantity=3, unit_price=Decimal("4.99"),
        expires_at=reservation.expires_at,
    )  # fmt: skip
    return {"grocery": grocery, "drinks": drinks, "jam": jam, "mapping": mapping, "override": override,
            "reservation": reservation}  # fmt: skip


class _FormFields(HTMLParser):
    """The fields a browser would post from the page's main form (inputs, selects, textareas)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "button", "file"}:
            if a.get("type") in {"checkbox", "radio"} and "checked" not in a:
                return
            self.data[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data.strip("\n")


def form_data(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200
    parser = _FormFields()
    parser.feed(response.content.decode())
    parser.data.pop("csrfmiddlewaretoken", None)
    parser.data.pop("q", None)  # the search box of the navigation sidebar
    return parser.data


def changes() -> list[tuple[str | None, str, str, str | None, str]]:
    return [
        (
            c.category.family_code if c.category else None,
            c.old_value,
            c.new_value,
            c.changed_by.get_username() if c.changed_by else None,
            c.note,
        )
        for c in RolloutChange.objects.select_related("category", "changed_by").order_by("pk")
    ]


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:inventory_{name}", args=args)


# --- Pages render ---------------------------------------------------------------------------------


def test_every_inventory_page_renders(staff: Client, shop: dict[str, Any]) -> None:
    category_change = RolloutChange.objects.create(
        category=shop["grocery"],
        what="rollout_stage",
        old_value="off",
        new_value="pilot",
        changed_by_name="x",
    )
    pages = [
        reverse("admin:index"),
        reverse("admin:app_list", args=["inventory"]),
        *[url(f"{m}_changelist") for m in [*REFERENCE_MODELS, "product", "rolloutchange", "reservation"]],
        *[url(f"{m}_import") for m in REFERENCE_MODELS],
        *[url(f"{m}_export") for m in REFERENCE_MODELS],
        url("location_change", 1),
        url("category_change", shop["grocery"].pk),
        url("itemmapping_change", shop["mapping"].pk),
        url("itemmapping_add"),
        url("safetystockoverride_change", shop["override"].pk),
        url("product_change", shop["jam"].pk),
        url("rolloutchange_change", category_change.pk),
        url("rolloutchange_changelist") + f"?category__id__exact={shop['grocery'].pk}",
        url("reservation_change", shop["reservation"].pk),
        url("sellingswitch_changelist"),
        url("product_changelist") + "?q=SKU-A1",
        url("location_changelist") + "?q=Magasin",
        url("location_changelist") + "?q=7",
        url("reservation_changelist") + "?q=A1",
    ]
    for page in pages:
        response = staff.get(page)
        assert response.status_code == 200, page


def test_tables_that_only_the_as400_or_the_checkout_fill_cannot_be_added_to_or_deleted_from(
    staff: Client, shop: dict[str, Any]
) -> None:
    assert staff.get(url("product_add")).status_code == 403
    assert staff.get(url("category_add")).status_code == 403
    assert staff.get(url("product_delete", shop["jam"].pk)).status_code == 403
    assert staff.get(url("reservation_delete", shop["reservation"].pk)).status_code == 403
    assert staff.post(url("reservation_change", shop["reservation"].pk), {"client": "x"}).status_code == 403
    assert Reservation.objects.get().client == "web"


def test_the_product_page_shows_stock_availability_and_the_mapping(
    staff: Client, shop: dict[str, Any]
) -> None:
    response = staff.get(url("product_change", shop["jam"].pk))

    page = response.content.decode()
    inline = response.context["inline_admin_formsets"][0]
    assert inline.formset.model is StockLevel
    assert not inline.has_add_permission
    assert not inline.has_change_permission
    # store 001: 10 on hand, 1 promised, 2 kept back by the override → 7; the warehouse: 50 - 3 reserved
    assert [(f.original.location_id, inline.opts.available(f.original)) for f in inline] == [
        (1, 7),
        (900, 47),
    ]
    assert 'href="{}">SKU-A1</a>'.format(url("itemmapping_change", shop["mapping"].pk)) in page


# --- Who owns which field -------------------------------------------------------------------------


def test_as400_fields_are_read_only_and_storefront_fields_editable_from_the_one_declaration(
    staff: Client, shop: dict[str, Any]
) -> None:
    response = staff.get(url("product_change", shop["jam"].pk))

    form_fields = set(response.context["adminform"].form.fields)
    assert form_fields == set(fields_owned_by(System.STOREFRONT))
    assert not form_fields & set(fields_owned_by(System.AS400))
    assert set(fields_owned_by(System.AS400)) <= set(response.context["adminform"].readonly_fields)


def test_posting_a_changed_price_does_not_change_it_while_the_title_is_saved(
    staff: Client, shop: dict[str, Any]
) -> None:
    # Given the product's change form as the browser has it
    jam = shop["jam"]
    change_url = url("product_change", jam.pk)
    data = form_data(staff, change_url)
    assert "price" not in data
    assert "title" in data

    # When staff post a new title, plus AS400 fields the form does not even show
    data.update(
        title="Confiture extra de fraises", price="0.01", ean="0000000000000", status="D", item_number="Z"
    )
    response = staff.post(change_url, data)

    # Then the title is saved, and the AS400's fields are as they were
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    jam.refresh_from_db()
    assert jam.title == "Confiture extra de fraises"
    assert (jam.item_number, jam.ean, jam.price, jam.status) == ("A1", "3017620422003", Decimal("4.99"), "A")


def test_saving_the_storefront_fields_does_not_write_back_an_as400_price_read_before(
    staff: Client, shop: dict[str, Any]
) -> None:
    # Given the page read by staff, then an extract that changes the price
    jam = shop["jam"]
    change_url = url("product_change", jam.pk)
    data = form_data(staff, change_url)
    Product.objects.filter(pk=jam.pk).update(price=Decimal("5.49"))

    # When staff save a new title
    data["title"] = "Confiture"
    assert staff.post(change_url, data).status_code == 302

    # Then the extract's price stands
    jam.refresh_from_db()
    assert (jam.title, jam.price) == ("Confiture", Decimal("5.49"))


# --- Rollout in the admin -------------------------------------------------------------------------


def test_the_set_stage_action_asks_then_records_the_change_with_the_user(
    staff: Client, shop: dict[str, Any]
) -> None:
    grocery, drinks = shop["grocery"], shop["drinks"]
    selected = {"action": "set_stage", "_selected_action": [grocery.pk, drinks.pk]}

    # When staff choose the action for two categories, they are asked for the stage first
    response = staff.post(url("category_changelist"), {**selected, "index": "0"})
    assert response.status_code == 200
    assert response.templates[0].name == "admin/inventory/category/set_stage.html"
    assert changes() == []

    # And when they confirm "live"
    response = staff.post(
        url("category_changelist"), {**selected, "apply": "1", "stage": "live", "note": "go"}
    )

    # Then the category that moved is recorded with the user; the one already live is not
    assert response.status_code == 302
    assert list(Category.objects.values_list("family_code", "rollout_stage")) == [
        ("F001", "live"),
        ("F002", "live"),
    ]
    assert changes() == [("F001", "off", "live", "claire", "go")]
    messages = [str(m) for m in staff.get(url("category_changelist")).context["messages"]]
    assert messages == ["1 moved to live (F001); 1 already live, left as they were."]


def test_a_stage_changed_on_the_category_page_is_recorded_and_shown_in_its_history(
    staff: Client, shop: dict[str, Any]
) -> None:
    grocery = shop["grocery"]
    change_url = url("category_change", grocery.pk)
    data = form_data(staff, change_url)
    data.update(rollout_stage="pilot", note="pilot store first", safety_stock="2")

    assert staff.post(change_url, data).status_code == 302

    grocery.refresh_from_db()
    assert (grocery.rollout_stage, grocery.safety_stock) == ("pilot", 2)
    assert changes() == [("F001", "off", "pilot", "claire", "pilot store first")]
    # Saving again without touching the stage records nothing more
    data = form_data(staff, change_url)
    assert staff.post(change_url, {**data, "safety_stock": "3"}).status_code == 302
    assert len(changes()) == 1
    history = staff.get(change_url).context["inline_admin_formsets"][0]
    assert [(f.original.old_value, f.original.new_value) for f in history] == [("off", "pilot")]
    listed = staff.get(url("rolloutchange_changelist") + f"?category__id__exact={grocery.pk}")
    assert [c.note for c in listed.context["cl"].result_list] == ["pilot store first"]
    # the stages by their labels, not their codes, in the list and the category's history
    for page in (listed.content.decode(), staff.get(change_url).content.decode()):
        assert re.search(r'class="field-old_label">\s*(<p>)?Off<', page), page
        assert re.search(r'class="field-new_label">\s*(<p>)?Pilot<', page), page


def test_a_categories_import_in_the_admin_previews_then_records_the_stage_change_with_the_user(
    staff: Client, shop: dict[str, Any]
) -> None:
    upload = SimpleUploadedFile("semaine-3.csv", b"family_code,rollout_stage\nF001,pilot\nF002,live\n")

    # When the file is uploaded, the preview changes nothing
    response = staff.post(url("category_import"), {"resource": "0", "format": "0", "import_file": upload})
    assert response.status_code == 200
    result = response.context["result"]
    assert [r.import_type for r in result.rows] == ["update", "skip"]
    confirm = response.context["confirm_form"].initial
    assert Category.objects.get(family_code="F001").rollout_stage == "off"
    assert changes() == []

    # And when it is confirmed, the change is recorded with the user and the file
    response = staff.post(url("category_process_import"), {**confirm})
    assert response.status_code == 302
    assert Category.objects.get(family_code="F001").rollout_stage == "pilot"
    assert changes() == [("F001", "off", "pilot", "claire", "import of semaine-3.csv")]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_import_with_bad_rows_shows_each_error_by_row_and_column_and_cannot_be_confirmed(
    staff: Client, shop: dict[str, Any], file_format: str
) -> None:
    rows = [["item_number", "sku"], ["A2", "SKU-A1"], ["ZZ9", "SKU-Z"]]
    if file_format == "csv":
        content = "\n".join(",".join(r) for r in rows).encode()
    else:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        buffer = BytesIO()
        book.save(buffer)
        content = buffer.getvalue()
    upload = SimpleUploadedFile(f"mappings.{file_format}", content)

    response = staff.post(
        url("itemmapping_import"),
        {"resource": "0", "format": "0" if file_format == "csv" else "1", "import_file": upload},
    )

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    invalid = response.context["result"].invalid_rows
    assert [(r.number, r.error_dict) for r in invalid] == [
        (1, {"sku": ["SKU 'SKU-A1' is already mapped to item 'A1'"]}),
        (2, {"item_number": ["unknown item 'ZZ9'"]}),
    ]
    assert "SKU &#x27;SKU-A1&#x27; is already mapped to item &#x27;A1&#x27;" in response.content.decode()
    assert list(ItemMapping.objects.values_list("sku", flat=True)) == ["SKU-A1"]


def test_a_file_refused_as_a_whole_shows_why_without_a_traceback(staff: Client, shop: dict[str, Any]) -> None:
    upload = SimpleUploadedFile("m.csv", b"article,code\nA2,X\n")

    response = staff.post(url("itemmapping_import"), {"resource": "0", "format": "0", "import_file": upload})

    page = response.content.decode()
    assert "the file has no column item_number, sku" in page
    assert "Traceback" not in page
    assert ItemMapping.objects.count() == 1


@pytest.mark.parametrize(("file_format", "index"), [("csv", "0"), ("xlsx", "1")])
def test_the_admin_exports_a_file_the_import_reads_back(
    staff: Client, shop: dict[str, Any], tmp_path: Path, file_format: str, index: str
) -> None:
    response = staff.post(url("safetystockoverride_export"), {"resource": "0", "format": index})

    assert response.status_code == 200
    path = tmp_path / f"overrides.{file_format}"
    path.write_bytes(response.content)
    if file_format == "csv":
        assert path.read_bytes().decode("utf-8-sig").splitlines() == [
            "item_number,location,quantity",
            "A1,001,2",
        ]
    SafetyStockOverride.objects.update(quantity=9)
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    preview = staff.post(
        url("safetystockoverride_import"), {"resource": "0", "format": index, "import_file": upload}
    )
    confirm = preview.context["confirm_form"].initial
    assert staff.post(url("safetystockoverride_process_import"), confirm).status_code == 302
    assert list(SafetyStockOverride.objects.values_list("quantity", flat=True)) == [2]


# --- The selling switch ---------------------------------------------------------------------------


def test_the_switch_page_pauses_and_resumes_with_a_reason_each_change_recorded_once(
    staff: Client, shop: dict[str, Any]
) -> None:
    page = url("sellingswitch_changelist")
    assert "Online selling is on" in staff.get(page).content.decode()

    # A pause without a reason is refused
    staff.post(page, {"op": "pause", "reason": ""})
    assert selling_enabled()

    # A pause with a reason is recorded; pausing again is not
    assert staff.post(page, {"op": "pause", "reason": "AS400 incident INC-42"}).status_code == 302
    staff.post(page, {"op": "pause", "reason": "again"})
    assert not selling_enabled()
    shown = staff.get(page)
    assert "Online selling is paused" in shown.content.decode()
    assert "AS400 incident INC-42" in shown.content.decode()

    # Resuming is recorded once too
    staff.post(page, {"op": "resume", "reason": "fixed"})
    staff.post(page, {"op": "resume", "reason": ""})
    assert selling_enabled()
    assert changes() == [
        (None, "true", "false", "claire", "AS400 incident INC-42"),
        (None, "false", "true", "claire", "fixed"),
    ]
    assert SellingSwitch.objects.count() == 1
    assert Reservation.objects.get().status == Reservation.Status.ACTIVE


def test_the_switch_page_refuses_a_user_without_the_permission(shop: dict[str, Any], client: Client) -> None:
    viewer = get_user_model().objects.create_user("support", password="x", is_staff=True)
    client.force_login(viewer)

    assert client.get(url("sellingswitch_changelist")).status_code == 403
    assert client.post(url("sellingswitch_changelist"), {"op": "pause", "reason": "x"}).status_code == 403
    assert selling_enabled()


def test_a_user_who_may_only_view_a_table_may_export_it_but_not_import_into_it(
    shop: dict[str, Any], client: Client
) -> None:
    viewer = get_user_model().objects.create_user("support", password="x", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_category", "view_itemmapping", "change_itemmapping"])
    )
    client.force_login(viewer)
    upload = SimpleUploadedFile("c.csv", b"family_code,rollout_stage\nF001,live\n")

    assert client.get(url("category_changelist")).status_code == 200
    assert (
        client.post(
            url("category_import"), {"resource": "0", "format": "0", "import_file": upload}
        ).status_code
        == 403
    )
    assert client.get(url("itemmapping_import")).status_code == 403  # adding mappings needs "add" too
    assert client.post(url("category_export"), {"resource": "0", "format": "0"}).status_code == 200
    selected = {
        "action": "set_stage",
        "_selected_action": [shop["grocery"].pk],
        "apply": "1",
        "stage": "live",
    }
    client.post(url("category_changelist"), selected)
    assert Category.objects.get(family_code="F001").rollout_stage == "off"
    assert changes() == []


def test_rollout_history_cannot_be_edited(staff: Client, shop: dict[str, Any]) -> None:
    change = RolloutChange.objects.create(what="selling_enabled", old_value="true", new_value="false")

    assert staff.get(url("rolloutchange_add")).status_code == 403
    assert staff.post(url("rolloutchange_change", change.pk), {"note": "x"}).status_code == 403
    assert staff.get(url("rolloutchange_delete", change.pk)).status_code == 403


def test_location_list_edits_click_and_collect(staff: Client, shop: dict[str, Any]) -> None:
    assert Location.objects.get(code=7).click_and_collect is False
    data = form_data(staff, url("location_changelist") + "?q=007")
    data.update({"form-0-click_and_collect": "on", "_save": "Save"})

    assert staff.post(url("location_changelist") + "?q=007", data).status_code == 302

    assert Location.objects.get(code=7).click_and_collect is True
