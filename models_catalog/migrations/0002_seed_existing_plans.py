"""Plans created before the support model existed get the guide's roles and responsibility areas."""

from django.db import migrations


def seed(apps, schema_editor):
    from models_catalog import catalogue

    SupportPlan = apps.get_model("supportplan", "SupportPlan")
    Role = apps.get_model("models_catalog", "Role")
    Responsibility = apps.get_model("models_catalog", "Responsibility")
    for plan in SupportPlan.objects.all():
        for key, name, description in catalogue.ROLES:
            if not Role.objects.filter(plan=plan, name=name).exists():
                Role.objects.create(plan=plan, seed_key=key, name=name, description=description)
        for index, (key, name, description) in enumerate(catalogue.RESPONSIBILITIES):
            if not Responsibility.objects.filter(plan=plan, name=name).exists():
                Responsibility.objects.create(
                    plan=plan, seed_key=key, name=name, description=description, position=index
                )


class Migration(migrations.Migration):
    dependencies = [("models_catalog", "0001_initial"), ("supportplan", "0003_membership_organisation")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
