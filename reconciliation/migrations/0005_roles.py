"""The three roles of the admin, as groups an administrator puts people in, with what each needs and
no more (0003 gave the first two their reconciliation permissions; this adds the rest):

- « Équipe commerce » (business staff): sees the platform's data; acts on orders (resolve their
  attention, cancel, decide oversold Shopify orders), on AS400-event discrepancies, and on the
  rollout (a category's stage, its name and safety stock).
- « Exploitation » (operations): sees the platform's data and the task queue; retries and cancels
  outbox messages, resends returns, replays webhooks and Shopify calls, resolves alerts, manages
  storefront clients, imports item mappings and safety-stock overrides, edits locations, pauses and
  resumes online selling (with its reason), uses the AS400 simulator's page.
- « Support » (read-only support): sees the platform's data, changes nothing.

Permissions are created first (a migration runs before ``post_migrate`` creates them), as 0003
does. A model added later gets its permissions into these groups by a migration of its own.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

BUSINESS = "Équipe commerce"
OPERATIONS = "Exploitation"
SUPPORT = "Support"

# Whose data every role sees (view_* of every model of these apps).
SEEN = ["integration", "shopify", "inventory", "orders", "returns", "shopify_channel", "reconciliation"]

BUSINESS_ACTS = {
    "orders": ["change_order", "change_as400event"],
    "shopify_channel": ["change_shopifyorder"],
    "inventory": ["change_category"],
}
OPERATIONS_ACTS = {
    "integration": [
        "change_outboxmessage", "change_alert", "add_storefrontclient", "change_storefrontclient",
        "change_webhookdelivery", "use_as400_simulator",
    ],
    "shopify": ["change_webhookevent", "change_shopifycall"],
    "returns": ["change_return"],
    "inventory": [
        "add_itemmapping", "change_itemmapping", "delete_itemmapping",
        "add_safetystockoverride", "change_safetystockoverride", "delete_safetystockoverride",
        "change_location", "change_sellingswitch",
    ],
    "django_q": ["view_task", "view_success", "view_failure", "view_schedule", "change_failure"],
}  # fmt: skip


def _permissions(apps, app_label, codenames=None):  # type: ignore[no-untyped-def]
    Permission = apps.get_model("auth", "Permission")
    found = Permission.objects.filter(content_type__app_label=app_label)
    if codenames is None:
        return list(found.filter(codename__startswith="view_"))
    found = list(found.filter(codename__in=codenames))
    missing = set(codenames) - {p.codename for p in found}
    if missing:
        raise RuntimeError(f"roles: no permission {sorted(missing)} in {app_label}")
    return found


def create_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    for label in [*SEEN, "django_q"]:
        config = apps.get_app_config(label)
        config.models_module = True  # a migration's app state has none; without one nothing is created
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    seen = [p for label in SEEN for p in _permissions(apps, label)]
    for name, acts in [(BUSINESS, BUSINESS_ACTS), (OPERATIONS, OPERATIONS_ACTS), (SUPPORT, {})]:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*seen, *[p for label, codes in acts.items() for p in _permissions(apps, label, codes)])


def remove_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name=SUPPORT).delete()
    for group in Group.objects.filter(name__in=[BUSINESS, OPERATIONS]):
        # Back to what 0003 gave them: some of reconciliation's own.
        group.permissions.remove(*group.permissions.exclude(codename__in=GIVEN_BY_0003))


GIVEN_BY_0003 = [
    "view_run", "view_discrepancy", "view_action", "view_threshold", "resolve_discrepancy",
    "add_threshold", "change_threshold", "delete_threshold", "run_reconciliation",
]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0004_verbose_names_translatable"),
        ("integration", "0013_outbox_message_subject"),
        ("shopify", "0002_schedules"),
        ("inventory", "0008_product_attributes_limits"),
        ("orders", "0005_as400event_help_texts"),
        ("returns", "0002_timestamps_written_by_services"),
        ("shopify_channel", "0004_poll"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
