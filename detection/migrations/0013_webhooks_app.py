"""The webhook models now belong to the webhooks app (its 0001 takes them over, tables kept)."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("detection", "0012_register_lite0_sbi_v6"),
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WebhookDelivery"),
                migrations.DeleteModel(name="WebhookEvent"),
            ],
            database_operations=[],
        ),
    ]
