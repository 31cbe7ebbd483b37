"""Seeds the aspect catalogue (version 1). Later versions add a migration that calls sync again."""

from django.db import migrations


def seed(apps, schema_editor):
    from scope.catalogue import sync

    sync(apps.get_model("scope", "AspectGroup"), apps.get_model("scope", "Aspect"), version=1)


class Migration(migrations.Migration):
    dependencies = [("scope", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
