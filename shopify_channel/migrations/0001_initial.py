# Stand-in for wt-orders' 0001 (ShopifyLocation as the shared plan declares it); replaced by theirs on merge.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("inventory", "__first__")]
    operations = [
        migrations.CreateModel(
            name="ShopifyLocation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "shopify_location_id",
                    models.CharField(help_text="gid://shopify/Location/…", max_length=80, unique=True),
                ),
                ("pickup", models.BooleanField(default=False, help_text="Offers local pickup in Shopify")),
                (
                    "location",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="shopify_location",
                        to="inventory.location",
                    ),
                ),
            ],
            options={"ordering": ["location"]},
        ),
    ]
