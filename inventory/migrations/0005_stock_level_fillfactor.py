"""Room in each page of the stock table for HOT updates (PostgreSQL only).

An extract rewrites on_hand/promised/as_of, none of them indexed: with free space in the page the
new row version stays on it and no index is touched, which makes a nightly full extract's updates
several times cheaper.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE inventory_stocklevel SET (fillfactor = 80)")


def reset_fillfactor(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE inventory_stocklevel RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_stock_level_without_db_foreign_keys")]
    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
