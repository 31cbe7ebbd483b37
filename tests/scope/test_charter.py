"""The support charter's content, its HTML and Word renderings, and its Markdown download."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from models_catalog import raci
from models_catalog.models import (
    ModelKind,
    Party,
    PartyKind,
    Responsibility,
    Role,
    SupportLevel,
    SupportModel,
)
from models_catalog.services import catalogue_seed_plan
from operations.models import (
    CalendarEvent,
    CalendarEventKind,
    CalendarHoliday,
    EscalationAction,
    EscalationStep,
    EscalationTrigger,
    Priority,
    ServiceCalendar,
    SlaMetric,
    SlaPhase,
    SlaPolicy,
    SlaTarget,
)
from scope.charter import SECTIONS, charter_docx, charter_html, charter_markdown
from scope.models import Aspect, ScopeItem

OFFICE_HOURS = {str(day): [["09:00", "17:00"]] for day in range(5)}


@dataclass
class CharterWorld:
    partner: Party
    calendar: ServiceCalendar
    policy: SlaPolicy
    in_scope: ScopeItem
    out_of_scope: ScopeItem


def build_charter_world(plan) -> CharterWorld:
    """Northwind with a mixed model, a level, a RACI, a calendar with holidays and events, a hypercare
    policy with a ladder, and scope items in and out of scope (one a currency item)."""
    catalogue_seed_plan(plan=plan)
    SupportModel.objects.create(plan=plan, kind=ModelKind.MIXED, rationale="Partner built the custom code.")
    partner = Party.objects.create(
        plan=plan,
        name="Contoso | Consulting",
        kind=PartyKind.PARTNER,
        helpdesk_system="Jira Service Management",
        anonymised_data_only=True,
    )
    support_manager = Role.objects.get(plan=plan, seed_key="support_manager")
    level = SupportLevel.objects.create(plan=plan, number=4, name="Partner", handoff_criteria="Standard bug.")
    level.parties.set([partner])
    level.roles.set([support_manager])
    new_features = Responsibility.objects.get(plan=plan, seed_key="new_features")
    raci.raci_set_cell(responsibility=new_features, role=support_manager, letter="A")
    raci.raci_set_cell(responsibility=new_features, party=partner, letter="R")
    calendar = ServiceCalendar.objects.create(
        plan=plan, name="UK office hours", timezone="Europe/London", weekly_windows=OFFICE_HOURS
    )
    CalendarHoliday.objects.create(calendar=calendar, date=date(2027, 12, 25), name="Christmas Day")
    CalendarHoliday.objects.create(calendar=calendar, date=date(2027, 12, 26), name="Boxing Day")
    CalendarEvent.objects.create(
        plan=plan,
        name="Year-end close",
        kind=CalendarEventKind.PERIOD_END,
        starts_at=datetime(2027, 12, 31, 18, tzinfo=UTC),
        ends_at=datetime(2028, 1, 1, 2, tzinfo=UTC),
        required_service_level="P1 24×7",
    )
    CalendarEvent.objects.create(
        plan=plan,
        name="Go-live freeze",
        kind=CalendarEventKind.FREEZE,
        starts_at=datetime(2027, 3, 20, tzinfo=UTC),
        ends_at=datetime(2027, 4, 2, tzinfo=UTC),
    )
    p1 = Priority.objects.create(plan=plan, code="P1", name="Critical", rank=1)
    policy = SlaPolicy.objects.create(
        plan=plan, name="Hypercare targets", phase=SlaPhase.HYPERCARE, valid_from=date(2027, 4, 1)
    )
    target = SlaTarget.objects.create(
        policy=policy, priority=p1, metric=SlaMetric.RESOLUTION, minutes=240, calendar=calendar
    )
    EscalationStep.objects.create(
        target=target,
        position=0,
        trigger=EscalationTrigger.AT_BREACH,
        action=EscalationAction.NOTIFY_PARTY,
        party=partner,
    )
    integrations = Aspect.objects.get(key="integrations", plan__isnull=True)
    in_scope = ScopeItem.objects.create(
        plan=plan,
        aspect=integrations,
        in_scope=True,
        what="Monitor the EDI | WMS interfaces",
        details=[
            {"task": "Check the failed-message queue", "standard": "Empty by 09:00", "frequency": "daily"}
        ],
        support_level=level,
        tool="Azure Monitor",
        access_needs="Read access to the integration logs",
    )
    in_scope.parties.set([partner])
    out_of_scope = ScopeItem.objects.create(
        plan=plan,
        aspect=Aspect.objects.get(key="identity_infrastructure", plan__isnull=True),
        in_scope=False,
        out_of_scope_reason="Run by group IT",
        redirect_to="Group IT service desk",
    )
    ScopeItem.objects.create(
        plan=plan,
        aspect=Aspect.objects.get(key="microsoft_updates", plan__isnull=True),
        in_scope=True,
        what="Take Microsoft's service updates",
        details=[{"task": "Regression test the update", "frequency": "monthly"}],
    )
    return CharterWorld(
        partner=partner, calendar=calendar, policy=policy, in_scope=in_scope, out_of_scope=out_of_scope
    )


@pytest.fixture
def world(plan, alice, bob) -> CharterWorld:
    return build_charter_world(plan)


def _section(markdown: str, title: str) -> str:
    """The text of one numbered ``## n. title`` section, up to the next one."""
    start = markdown.index(f". {title}\n")
    following = markdown.find("\n## ", start)
    return markdown[start : following if following != -1 else None]


def test_the_charter_has_every_section_in_order(world, plan):
    markdown = charter_markdown(plan=plan)
    positions = [markdown.index(f"## {number}. {title}\n") for number, title in enumerate(SECTIONS, start=1)]
    assert positions == sorted(positions)
    assert markdown.startswith("# Support charter: Northwind Distribution")


def test_the_charter_fills_each_section_from_the_plan(world, plan):
    markdown = charter_markdown(plan=plan)
    scope = _section(markdown, "Scope")
    assert "**Integrations**: Monitor the EDI \\| WMS interfaces" in scope
    assert "L4 Partner" in scope
    assert "Run by group IT. Questions go to: Group IT service desk." in scope
    model = _section(markdown, "Support model and levels")
    assert "**Mixed (hybrid)**" in model and "### L4 Partner" in model
    assert "Parties: Contoso \\| Consulting" in model and "Roles: Support manager" in model
    roles = _section(markdown, "Roles and RACI")
    assert "| New features and developments |" in roles
    assert "Data quality has no A" in roles
    hours = _section(markdown, "Service hours")
    assert "**UK office hours** (Europe/London): Mon–Fri 09:00–17:00; 2 holidays" in hours
    assert "**Year-end close** (Period-end)" in hours and "needs P1 24×7" in hours
    assert "**Go-live freeze** (Freeze window)" in hours
    slas = _section(markdown, "SLAs and escalation")
    assert "### Hypercare: Hypercare targets" in slas
    assert "| P1 | Resolution | 4 h | UK office hours | any | any |" in slas
    assert "- P1 resolution: At breach: notify Contoso \\| Consulting." in slas
    tools = _section(markdown, "Tools")
    assert "**Azure Monitor**: Integrations" in tools
    assert "**Jira Service Management**: helpdesk of Contoso \\| Consulting" in tools
    access = _section(markdown, "Access policies")
    assert "**Contoso \\| Consulting** may see only anonymised data." in access
    assert "**Integrations**: Read access to the integration logs" in access
    maintenance = _section(markdown, "Maintenance calendar")
    assert "| Integrations | Check the failed-message queue | Empty by 09:00 | daily |" in maintenance
    current = _section(markdown, "Keeping the solution current")
    assert "Take Microsoft's service updates" in current and "Regression test the update (monthly)" in current
    authority = _section(markdown, "Change authority")
    assert "Accountable for new features and developments: **Support manager**." in authority
    assert "Project lead: alice" in authority and "Support lead: bob" in authority


def test_an_empty_plan_says_plainly_what_is_missing(plan):
    markdown = charter_markdown(plan=plan)
    for wording in (
        "No scope item decided yet.",
        "No support model chosen yet.",
        "No support levels yet.",
        "No RACI yet.",
        "No service calendar yet.",
        "No period-ends, peaks or freezes yet.",
        "No SLA policy yet.",
        "No tools named yet.",
        "No party is restricted to anonymised data yet.",
        "No access needs recorded yet.",
        "No maintenance tasks yet.",
        "Nothing recorded yet on updates, new features or requirements.",
        "The plan has no leads yet.",
    ):
        assert wording in markdown


def test_pipes_in_user_text_do_not_break_the_tables(world, plan):
    world.partner.name = "A | B"
    world.partner.save()
    html = charter_html(charter_markdown(plan=plan))
    raci_header = next(
        line for line in charter_markdown(plan=plan).splitlines() if line.startswith("| Responsibility")
    )
    assert "A \\| B" in raci_header
    assert '<th scope="col">A | B</th>' in html


def test_the_html_escapes_everything_a_user_typed(plan, alice):
    plan.description = "<script>alert(1)</script> **not bold?**"
    plan.save()
    html = charter_html(charter_markdown(plan=plan))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **not bold?**" in html


def test_the_converter_renders_headings_lists_tables_and_bold():
    html = charter_html(
        "# T\n\nSome **bold** text.\n\n- one\n  - nested\n- two\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"
    )
    assert "<h1>T</h1>" in html
    assert "<p>Some <strong>bold</strong> text.</p>" in html
    assert "<ul><li>one<ul><li>nested</li></ul></li><li>two</li></ul>" in html
    assert '<th scope="col">a</th>' in html and "<td>2</td>" in html


def test_the_charter_costs_a_fixed_number_of_queries(world, plan):
    with CaptureQueriesContext(connection) as small:
        charter_markdown(plan=plan)
    for key in ("environments", "data_maintenance", "order_to_cash", "disaster_recovery"):
        item = ScopeItem.objects.create(
            plan=plan,
            aspect=Aspect.objects.get(key=key, plan__isnull=True),
            in_scope=True,
            tool=f"Tool {key}",
        )
        item.parties.set([world.partner])
    for number in range(3):
        calendar = ServiceCalendar.objects.create(plan=plan, name=f"Extra {number}", timezone="Europe/Paris")
        CalendarHoliday.objects.create(calendar=calendar, date=date(2027, 5, 1), name="Labour Day")
        target = SlaTarget.objects.create(
            policy=SlaPolicy.objects.create(
                plan=plan,
                name=f"Steady {number}",
                phase=SlaPhase.STEADY_STATE,
                valid_from=date(2028 + number, 1, 1),
            ),
            priority=Priority.objects.get(plan=plan, code="P1"),
            metric=SlaMetric.FIRST_RESPONSE,
            minutes=30,
            calendar=calendar,
        )
        EscalationStep.objects.create(
            target=target, trigger=EscalationTrigger.AT_BREACH, action=EscalationAction.RAISE_LEVEL
        )
    with CaptureQueriesContext(connection) as large:
        charter_markdown(plan=plan)
    assert len(large) == len(small)
    assert len(small) <= 25


def test_the_word_document_opens_and_holds_the_sections(world, plan):
    from docx import Document

    content = charter_docx(markdown=charter_markdown(plan=plan), title="Support charter")
    document = Document(io.BytesIO(content))
    headings = [
        paragraph.text for paragraph in document.paragraphs if paragraph.style.name.startswith("Heading")
    ]
    for number, title in enumerate(SECTIONS, start=1):
        assert f"{number}. {title}" in headings
    assert any(
        cell.text == "Contoso | Consulting" for table in document.tables for cell in table.rows[0].cells
    )
    assert any(paragraph.style.name == "List Bullet" for paragraph in document.paragraphs)


def test_a_lead_downloads_the_draft_as_markdown(world, plan, client, alice):
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("charter-download", args=[plan.slug, "md"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert 'filename="charter-northwind-draft.md"' in response["Content-Disposition"]
    assert response.content.decode() == charter_markdown(plan=plan)


def test_a_viewer_downloads_the_draft_as_word_and_an_unknown_format_is_not_found(world, plan, client, victor):
    client.force_login(victor, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("charter-download", args=[plan.slug, "docx"]))
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
    assert client.get(reverse("charter-download", args=[plan.slug, "pdf"])).status_code == 404


def test_the_preview_page_shows_the_draft_and_offers_leads_to_issue_it(world, plan, client, alice, victor):
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    body = client.get(reverse("charter", args=[plan.slug])).content.decode()
    assert "<h2>6. SLAs and escalation</h2>" in body
    assert "css/charter.css" in body
    assert "Issue this as version 1" in body
    client.force_login(victor, backend="django.contrib.auth.backends.ModelBackend")
    assert "Issue this as version" not in client.get(reverse("charter", args=[plan.slug])).content.decode()
