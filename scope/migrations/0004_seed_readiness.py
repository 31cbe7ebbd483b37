"""Gives existing plans the readiness checklist and an empty hypercare plan (new plans get them from
``supportplan.services.plan_create``). Uses the catalogue's data, not the service: historical models."""

from django.db import migrations


def seed(apps, schema_editor):
    from scope import readiness_catalogue as catalogue

    SupportPlan = apps.get_model("supportplan", "SupportPlan")
    ReadinessItem = apps.get_model("scope", "ReadinessItem")
    HypercarePlan = apps.get_model("scope", "HypercarePlan")
    for plan in SupportPlan.objects.all():
        existing = set(ReadinessItem.objects.filter(plan=plan).values_list("key", flat=True))
        ReadinessItem.objects.bulk_create(
            ReadinessItem(
                plan=plan,
                key=entry.key,
                group=str(entry.group),
                position=position,
                title=entry.title,
                description=entry.description,
                must_have=entry.must_have,
                due_date=catalogue.milestone_date(plan.go_live_date, entry.due),
            )
            for position, entry in enumerate(catalogue.ITEMS)
            if entry.key not in existing
        )
        HypercarePlan.objects.get_or_create(plan=plan)


class Migration(migrations.Migration):
    dependencies = [("scope", "0003_readiness")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
