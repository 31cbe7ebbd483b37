"""Every model is in the admin, and every admin list page opens with the demo data loaded."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

OUR_APPS = {"supportplan", "models_catalog", "scope", "operations"}


def test_every_model_of_our_apps_is_registered():
    missing = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS and not admin.site.is_registered(model)
    ]
    assert missing == []


@pytest.mark.django_db
def test_every_admin_list_page_opens_with_the_demo_loaded(admin_client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for model in admin.site._registry:
        if model._meta.app_label not in OUR_APPS:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = admin_client.get(url, {"q": "north"})
        assert response.status_code == 200, url
