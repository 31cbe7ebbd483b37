"""The request list's index carries its whole cursor order (plan, -updated_at, -id)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("operations", "0004_fewer_indexes_on_written_tables")]

    operations = [
        migrations.RemoveIndex(model_name="supportrequest", name="request_plan_updated"),
        migrations.AddIndex(
            model_name="supportrequest",
            index=models.Index(fields=["plan", "-updated_at", "-id"], name="request_plan_updated"),
        ),
    ]
