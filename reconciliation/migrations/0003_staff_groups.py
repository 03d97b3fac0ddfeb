"""Who does what with reconciliation, as two groups an administrator puts people in:

- « Équipe commerce » (business staff): see the runs, the discrepancies and the thresholds, and
  resolve discrepancies;
- « Exploitation » (operations): the same, and set the thresholds and start a run.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

BUSINESS = "Équipe commerce"
OPERATIONS = "Exploitation"
SEE = ["view_run", "view_discrepancy", "view_action", "view_threshold", "resolve_discrepancy"]
SET = ["add_threshold", "change_threshold", "delete_threshold", "run_reconciliation"]


def create_groups(apps, schema_editor):  # type: ignore[no-untyped-def]
    config = apps.get_app_config("reconciliation")
    config.models_module = True  # a migration's app state has none; without one nothing is created
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(codenames):  # type: ignore[no-untyped-def]
        return Permission.objects.filter(content_type__app_label="reconciliation", codename__in=codenames)

    business, _ = Group.objects.get_or_create(name=BUSINESS)
    business.permissions.add(*perms(SEE))
    operations, _ = Group.objects.get_or_create(name=OPERATIONS)
    operations.permissions.add(*perms(SEE + SET))


def remove_permissions(apps, schema_editor):  # type: ignore[no-untyped-def]
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=[BUSINESS, OPERATIONS]):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="reconciliation"))


class Migration(migrations.Migration):
    dependencies = [("reconciliation", "0002_fallback_schedule"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(create_groups, remove_permissions)]
