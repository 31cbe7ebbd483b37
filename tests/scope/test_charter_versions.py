"""Issued charter versions: numbering, frozen content, one sign-off, comparison, and who may do what
in the browser and over the API."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from models_catalog.models import Party, PartyKind
from scope.charter import charter_diff, charter_issue, charter_markdown, charter_sign_off
from scope.models import CharterVersion
from tests.conftest import api_as

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
VERSIONS = "/api/v1/charter-versions/"


def add_party(plan, name: str) -> Party:
    return Party.objects.create(plan=plan, name=name, kind=PartyKind.PARTNER, helpdesk_system="Zendesk")


@pytest.fixture
def first(plan, alice, bob) -> CharterVersion:
    return charter_issue(plan=plan, issued_by=alice)


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


# --- Services ------------------------------------------------------------------------------
def test_versions_are_numbered_one_then_two(plan, first, bob):
    second = charter_issue(plan=plan, issued_by=bob)
    assert (first.number, second.number) == (1, 2)
    assert first.issued_by.username == "alice" and first.issued_at is not None
    assert second.issued_at >= first.issued_at


def test_a_version_keeps_its_content_after_the_plan_changes(plan, first):
    frozen = first.content_markdown
    add_party(plan, "Fabrikam Support")
    first.refresh_from_db()
    assert first.content_markdown == frozen
    assert "Fabrikam Support" not in frozen
    assert "Fabrikam Support" in charter_markdown(plan=plan)


def test_a_version_is_signed_off_once(first, bob, alice):
    charter_sign_off(version=first, by=bob)
    assert first.signed_off_by == bob and first.signed_off_at is not None
    with pytest.raises(ValidationError, match="already signed off"):
        charter_sign_off(version=first, by=alice)
    first.refresh_from_db()
    assert first.signed_off_by == bob


def test_the_diff_shows_what_changed_between_versions(plan, first, bob):
    add_party(plan, "Fabrikam Support")
    second = charter_issue(plan=plan, issued_by=bob)
    diff = charter_diff(older=first, newer=second)
    assert diff.startswith("--- version 1\n+++ version 2\n")
    assert "\n+- **Zendesk**: helpdesk of Fabrikam Support\n" in diff
    assert "\n-No tools named yet.\n" in diff
    assert charter_diff(older=first, newer=first) == ""


# --- Pages ---------------------------------------------------------------------------------
def test_a_lead_issues_a_version_from_the_page_and_signs_it_off(plan, client, alice):
    login(client, alice)
    response = client.post(reverse("charter", args=[plan.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("charter-version", args=[plan.slug, 1])
    body = client.get(response["Location"]).content.decode()
    assert "Sign off version 1" in body
    client.post(reverse("charter-version", args=[plan.slug, 1]))
    body = client.get(reverse("charter-version", args=[plan.slug, 1])).content.decode()
    assert "Sign off version 1" not in body
    assert CharterVersion.objects.get(plan=plan, number=1).signed_off_by == alice


def test_a_team_member_may_read_but_not_issue_or_sign_off(plan, first, client, tina):
    login(client, tina)
    assert client.get(reverse("charter", args=[plan.slug])).status_code == 200
    assert client.post(reverse("charter", args=[plan.slug])).status_code == 403
    assert client.post(reverse("charter-version", args=[plan.slug, 1])).status_code == 403
    assert CharterVersion.objects.filter(plan=plan).count() == 1


def test_a_partner_may_not_see_the_charter(plan, first, client, carol):
    login(client, carol)
    assert client.get(reverse("charter", args=[plan.slug])).status_code == 403
    assert client.get(reverse("charter-version", args=[plan.slug, 1])).status_code == 403


def test_another_plans_lead_finds_nothing(plan, first, client, dave):
    login(client, dave)
    assert client.get(reverse("charter", args=[plan.slug])).status_code == 404
    assert client.get(reverse("charter-version-download", args=[plan.slug, 1, "md"])).status_code == 404


def test_the_compare_page_marks_additions_and_deletions(plan, first, client, bob):
    add_party(plan, "Fabrikam <Support>")
    charter_issue(plan=plan, issued_by=bob)
    login(client, bob)
    body = client.get(reverse("charter-compare", args=[plan.slug]), {"from": 1, "to": 2}).content.decode()
    assert "<ins>+- **Zendesk**: helpdesk of Fabrikam \\&lt;Support\\&gt;</ins>" in body
    assert "<del>-No tools named yet.</del>" in body
    url = reverse("charter-compare", args=[plan.slug])
    assert client.get(url, {"from": 1, "to": 9}).status_code == 404
    assert client.get(url, {"from": "x", "to": 2}).status_code == 400


def test_a_version_downloads_as_its_frozen_markdown_and_as_word(plan, first, client, victor):
    from docx import Document

    add_party(plan, "Fabrikam Support")
    login(client, victor)
    response = client.get(reverse("charter-version-download", args=[plan.slug, 1, "md"]))
    assert response.content.decode() == first.content_markdown
    response = client.get(reverse("charter-version-download", args=[plan.slug, 1, "docx"]))
    assert Document(io.BytesIO(response.content)).paragraphs
    assert client.get(reverse("charter-version-download", args=[plan.slug, 1, "txt"])).status_code == 404


# --- API -----------------------------------------------------------------------------------
def test_a_lead_issues_and_signs_off_over_the_api(plan, alice):
    client = api_as(alice)
    response = client.post(VERSIONS, {"plan": plan.slug}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == 1 and response.json()["issued_by"] == "alice"
    version_id = response.json()["id"]
    response = client.post(f"{VERSIONS}{version_id}/sign-off/")
    assert response.status_code == 200 and response.json()["signed_off_by"] == "alice"
    response = client.post(f"{VERSIONS}{version_id}/sign-off/")
    assert response.status_code == 400
    assert "already signed off" in str(response.json())


def test_versions_cannot_be_changed_or_deleted_over_the_api(plan, first, alice):
    client = api_as(alice)
    url = f"{VERSIONS}{first.pk}/"
    assert client.patch(url, {"content_markdown": "rewritten"}, format="json").status_code == 405
    assert client.put(url, {"content_markdown": "rewritten"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    first.refresh_from_db()
    assert first.content_markdown != "rewritten"


def test_a_team_member_may_not_issue_over_the_api(plan, tina):
    response = api_as(tina).post(VERSIONS, {"plan": plan.slug}, format="json")
    assert response.status_code == 403
    assert not CharterVersion.objects.exists()


def test_a_read_key_lists_versions_but_cannot_issue(plan, first, read_key, write_key):
    client = api_as(key=read_key)
    response = client.get(VERSIONS, {"plan": plan.slug})
    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [1]
    assert client.post(VERSIONS, {"plan": plan.slug}, format="json").status_code == 403
    assert api_as(key=write_key).post(VERSIONS, {"plan": plan.slug}, format="json").status_code == 403


def test_another_plan_sees_no_versions_and_cannot_issue_there(plan, first, dave):
    client = api_as(dave)
    assert client.get(VERSIONS).json()["results"] == []
    assert client.get(f"{VERSIONS}{first.pk}/").status_code == 404
    response = client.post(VERSIONS, {"plan": plan.slug}, format="json")
    assert response.status_code == 400 and "plan" in response.json()["error"]["fields"]


def test_a_version_downloads_over_the_api_and_an_unknown_format_is_a_400(plan, first, bob):
    client = api_as(bob)
    response = client.get(f"{VERSIONS}{first.pk}/download/", {"format": "md"})
    assert response.status_code == 200 and response.content.decode() == first.content_markdown
    response = client.get(f"{VERSIONS}{first.pk}/download/", {"format": "docx"})
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert client.get(f"{VERSIONS}{first.pk}/download/", {"format": "pdf"}).status_code == 400


def test_the_draft_is_served_in_each_format(plan, bob, carol, dave):
    client = api_as(bob)
    markdown = client.get(f"{VERSIONS}draft/", {"plan": plan.slug, "format": "md"})
    assert markdown.status_code == 200 and markdown.content.decode() == charter_markdown(plan=plan)
    html = client.get(f"{VERSIONS}draft/", {"plan": plan.slug, "format": "html"})
    assert html.status_code == 200 and "<h2>1. Purpose</h2>" in html.content.decode()
    assert client.get(f"{VERSIONS}draft/", {"plan": plan.slug, "format": "docx"}).content[:2] == b"PK"
    assert client.get(f"{VERSIONS}draft/", {"plan": plan.slug, "format": "xml"}).status_code == 400
    assert client.get(f"{VERSIONS}draft/").status_code == 400
    assert api_as(carol).get(f"{VERSIONS}draft/", {"plan": plan.slug}).status_code == 403
    assert api_as(dave).get(f"{VERSIONS}draft/", {"plan": plan.slug}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [{}, {"plan": ""}, {"plan": ["northwind"]}, {"plan": 12}, {"plan": "no-such-plan"}, {"plan": "a\x00b"}],
)
def test_issuing_with_a_bad_plan_is_a_field_error_not_a_crash(plan, alice, body):
    response = api_as(alice).post(VERSIONS, body, format="json")
    assert response.status_code == 400
    assert "plan" in response.json()["error"]["fields"]


def test_junk_in_the_charter_endpoints_never_crashes(plan, first, alice):
    client = api_as(alice)
    assert client.post(VERSIONS, "not json", content_type="application/json").status_code == 400
    assert client.get(f"{VERSIONS}draft/", {"plan": "x" * 500}).status_code == 404
    assert client.get(f"{VERSIONS}draft/", {"plan": "a\x00b"}).status_code in (400, 404)
    assert client.get(f"{VERSIONS}99999999999999999999/").status_code == 404
    assert client.post(f"{VERSIONS}abc/sign-off/").status_code == 404
    assert client.get(VERSIONS, {"plan": "a\x00b"}).status_code in (200, 400)
