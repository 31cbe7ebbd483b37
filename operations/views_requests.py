"""Support-request pages: the list (breached and at-risk first), a request's page with its trace and
a bar per SLA clock, the SLA compliance report (chart and CSV) and, for leads, the status mappings of
each helpdesk integration. Partners see the requests their organisation holds or held."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from operations.forms_requests import (
    CLOSED_STATUSES,
    OPEN,
    ComplianceReportForm,
    RequestFilterForm,
    StatusMappingForm,
    default_report_period,
)
from operations.helpdesk import selectors as helpdesk_selectors
from operations.helpdesk import services as helpdesk_services
from operations.helpdesk.report import compliance_report, compliance_report_csv, hours_label
from operations.models import (
    ClockState,
    RequestEvent,
    RequestReference,
    SlaClock,
    StatusMapping,
    SupportRequest,
)
from supportplan.models import ApiKey
from supportplan.views_base import PlanViewMixin, run_service

PAGE_SIZE = 50
CHART_BAR_HEIGHT = 22
CHART_LABEL_WIDTH = 220
CHART_WIDTH = 760


def plan_requests(*, user, plan) -> QuerySet[SupportRequest]:
    """The plan's requests this user may see (partners: theirs, held now or before)."""
    return helpdesk_selectors.requests_for(user=user, plan=plan)


def with_live_state(requests: QuerySet[SupportRequest], *, now: datetime) -> QuerySet[SupportRequest]:
    """Annotates ``live_state`` (breached / at_risk / ok) as of ``now``: the stored ``sla_state`` is
    as of the last recompute (an event or a configuration change), so an open request whose
    earliest deadline or a clock's warning instant has passed since is shown as it is now."""
    warned = SlaClock.objects.filter(
        request=OuterRef("pk"), stopped_at__isnull=True, warn_at__isnull=False, warn_at__lte=now
    )
    closed = Q(status__in=CLOSED_STATUSES)
    return requests.annotate(
        live_state=Case(
            When(closed, then=F("sla_state")),
            When(Q(sla_state="breached") | Q(next_breach_at__lte=now), then=Value("breached")),
            When(Q(sla_state="at_risk") | Exists(warned), then=Value("at_risk")),
            default=Value("ok"),
            output_field=CharField(),
        )
    )


def filter_requests(requests: QuerySet[SupportRequest], data: dict) -> QuerySet[SupportRequest]:
    """Applies the list's filters to a queryset annotated by ``with_live_state``."""
    if data.get("q"):
        term = data["q"].strip()
        requests = requests.filter(
            Q(title__icontains=term) | Q(source_id=term) | Q(references__reference__iexact=term)
        ).distinct()
    status = data.get("status")
    if status == OPEN:
        requests = requests.exclude(status__in=CLOSED_STATUSES)
    elif status:
        requests = requests.filter(status=status)
    for field in ("priority", "level", "party"):
        if data.get(field) is not None:
            column = {"priority": "priority", "level": "current_level", "party": "current_party"}[field]
            requests = requests.filter(**{column: data[field]})
    sla = data.get("sla")
    if sla == "attention":
        requests = requests.filter(live_state__in=["breached", "at_risk"])
    elif sla:
        requests = requests.filter(live_state=sla)
    return requests


def attention_first(requests: QuerySet[SupportRequest]) -> QuerySet[SupportRequest]:
    """Open and breached, then open and at risk, then the other open ones, then the closed ones;
    within each the nearest deadline, then the newest. Needs ``with_live_state``."""
    closed = Q(status__in=CLOSED_STATUSES)
    return requests.annotate(
        attention=Case(
            When(closed, then=Value(3)),
            When(live_state="breached", then=Value(0)),
            When(live_state="at_risk", then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    ).order_by("attention", F("next_breach_at").asc(nulls_last=True), "-reported_at", "-id")


class RequestListView(PlanViewMixin, TemplateView):
    template_name = "operations/requests/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        form = RequestFilterForm(self.request.GET or None, plan=self.plan, user=self.request.user)
        requests = with_live_state(plan_requests(user=self.request.user, plan=self.plan), now=now)
        counts = requests.exclude(status__in=CLOSED_STATUSES).aggregate(
            open=_count(), breached=_count(live_state="breached"), at_risk=_count(live_state="at_risk")
        )
        if form.is_bound and form.is_valid():
            requests = filter_requests(requests, form.cleaned_data)
        requests = (
            attention_first(requests)
            .select_related("priority", "current_level", "current_party")
            .prefetch_related(
                Prefetch("references", queryset=RequestReference.objects.order_by("created_at", "id"))
            )
        )
        page = Paginator(requests, PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            form=form,
            page=page,
            requests=page.object_list,
            counts=counts,
            query=query.urlencode(),
            now=now,
        )
        return context


def _count(**conditions) -> Count:
    return Count("pk", filter=Q(**conditions)) if conditions else Count("pk")


class RequestDetailView(PlanViewMixin, TemplateView):
    """One request: details, references, the trace of hand-offs with holders and durations, a bar per
    SLA clock and the "when does it breach" figures of its running clocks."""

    template_name = "operations/requests/detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user, now = self.request.user, timezone.now()
        support_request = get_object_or_404(
            plan_requests(user=user, plan=self.plan).select_related("location", "policy", "scope_item"),
            pk=self.kwargs["request_id"],
        )
        clocks = list(
            SlaClock.objects.for_user(user)
            .filter(request=support_request)
            .select_related("target", "level", "party", "calendar")
            .order_by("level__number", "metric", "cycle")
        )
        status_events = list(
            RequestEvent.objects.filter(request=support_request, status__gt="")
            .order_by("occurred_at", "sequence")
            .values_list("occurred_at", "status", "clock_effect")
        )
        policy = support_request.policy
        bars = []
        for clock in clocks:
            figures = helpdesk_selectors.clock_figures(clock, now=now)
            pauses = pause_intervals(clock, status_events, policy=policy, now=now)
            bars.append(clock_bar(clock, figures, pauses=pauses, now=now))
        trace = helpdesk_selectors.request_trace(support_request, viewer=user, now=now)
        live_state = support_request.sla_state
        if support_request.status not in CLOSED_STATUSES:
            live = [bar for bar in bars if bar["live"]]
            if live_state == "breached" or any(bar["state"] == ClockState.BREACHED for bar in live):
                live_state = "breached"
            elif any(bar["clock"].warn_at and bar["clock"].warn_at <= now for bar in live):
                live_state = "at_risk"
        context.update(
            support_request=support_request,
            description=helpdesk_selectors.request_visible_description(support_request, user),
            references=support_request.references.select_related("party").order_by("created_at", "id"),
            trace=[
                (entry, hours_label(entry.held_seconds), hours_label(entry.wall_seconds)) for entry in trace
            ],
            holders=_holder_rows(trace),
            clocks=bars,
            due=[bar for bar in bars if bar["live"]],
            closed_statuses=CLOSED_STATUSES,
            live_state=live_state,
            now=now,
        )
        return context


def _holder_rows(trace) -> dict[str, list[tuple[str, str]]]:
    """Time held per party and per level (business h:mm), from the trace already built."""
    parties: dict[str, int] = {}
    levels: dict[str, int] = {}
    for entry in trace:
        party = entry.party.name if entry.party else "Unassigned"
        parties[party] = parties.get(party, 0) + entry.held_seconds
        level = entry.level_label or "No level"
        levels[level] = levels.get(level, 0) + entry.held_seconds
    return {
        "parties": [
            (name, hours_label(seconds)) for name, seconds in sorted(parties.items(), key=lambda i: -i[1])
        ],
        "levels": [
            (name, hours_label(seconds)) for name, seconds in sorted(levels.items(), key=lambda i: -i[1])
        ],
    }


def pause_intervals(
    clock: SlaClock, status_events: list[tuple], *, policy, now: datetime
) -> list[tuple[datetime, datetime]]:
    """The wall-clock stretches the clock stood still, for drawing: a status whose mapping pauses,
    or (without one) a status the policy pauses on; a vendor's per-level clock runs while it waits
    on the vendor when the policy says so. The stored figures come from the replay."""
    pause_statuses = set(policy.pause_statuses or ()) if policy else set()
    keeps_vendor_clock = bool(policy and policy.vendor_wait_keeps_vendor_clock and clock.level_id)
    start, end = clock.started_at, clock.stopped_at or now
    intervals: list[tuple[datetime, datetime]] = []
    paused_since: datetime | None = None
    for at, status, effect in status_events:
        if effect:
            paused = effect == "pause"
        else:
            paused = status in pause_statuses and not (keeps_vendor_clock and status == "awaiting_vendor")
        if paused and paused_since is None:
            paused_since = at
        elif not paused and paused_since is not None:
            intervals.append((paused_since, at))
            paused_since = None
    if paused_since is not None:
        intervals.append((paused_since, end))
    clipped = [(max(a, start), min(b, end)) for a, b in intervals]
    return [(a, b) for a, b in clipped if b > a]


def clock_bar(
    clock: SlaClock, figures: dict, *, pauses: list[tuple[datetime, datetime]], now: datetime
) -> dict[str, Any]:
    """Geometry (percent of the bar) of one clock: business time used against the target (the bar
    runs to 150 % so an overrun shows, the breach marker sits at the 100 % mark), and its wall-clock
    life from start to stop (or now) with the paused stretches."""
    target = max(clock.target_seconds, 1)
    elapsed = int(figures["elapsed_seconds"])
    scale = 1.5 * target
    end = clock.stopped_at or now
    life = max((end - clock.started_at).total_seconds(), 1)
    segments = [
        {
            "left": round((a - clock.started_at).total_seconds() / life * 100, 2),
            "width": max(round((b - a).total_seconds() / life * 100, 2), 0.4),
            "start": a,
            "end": b,
        }
        for a, b in pauses
    ]
    breached_left = None
    if clock.breached_at and clock.started_at <= clock.breached_at <= end:
        breached_left = round((clock.breached_at - clock.started_at).total_seconds() / life * 100, 2)
    remaining = int(figures["remaining_seconds"])
    return {
        "clock": clock,
        "figures": figures,
        "state": figures["state"],
        "live": clock.stopped_at is None and figures["state"] in (ClockState.RUNNING, ClockState.BREACHED),
        "percent": round(elapsed / target * 100),
        "used_width": round(min(elapsed, scale) / scale * 100, 2),
        "breach_left": round(100 / 1.5, 2),
        "over": elapsed > target,
        "pauses": segments,
        "breached_left": breached_left,
        "paused_label": hours_label(int(figures.get("paused_seconds") or 0)),
        "elapsed_label": hours_label(elapsed),
        "target_label": hours_label(clock.target_seconds),
        "remaining_label": hours_label(abs(remaining)),
        "overdue": remaining < 0,
    }


# --- Compliance report ---------------------------------------------------------------------
class ComplianceReportView(PlanViewMixin, TemplateView):
    """Met %, breaches and median response/resolution times per priority, party, level or month,
    with a bar chart drawn on the server (SVG) and the same figures as CSV."""

    template_name = "operations/requests/compliance.html"

    def get(self, request, *args, **kwargs):
        form = self.report_form()
        report = self.report(form)
        if request.GET.get("format") == "csv":
            if report is None:
                return HttpResponse(
                    "Choose a valid period and grouping.",
                    status=400,
                    content_type="text/plain; charset=utf-8",
                )
            response = HttpResponse(
                ("\ufeff" + compliance_report_csv(report)).encode(), content_type="text/csv; charset=utf-8"
            )
            name = f"sla-compliance-{self.plan.slug}-{report.group_by}-{report.start}-{report.end}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return self.render_to_response(self.get_context_data(form=form, report=report))

    def report_form(self) -> ComplianceReportForm:
        start, end = default_report_period()
        data = {"start": start.isoformat(), "end": end.isoformat(), "group_by": "priority"}
        data.update({key: value for key, value in self.request.GET.items() if key in data and value})
        return ComplianceReportForm(data)

    def report(self, form: ComplianceReportForm):
        if not form.is_valid():
            return None
        return run_service(
            form, lambda: compliance_report(plan=self.plan, user=self.request.user, **form.cleaned_data)
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        report = context.get("report")
        if report is not None:
            context["chart"] = compliance_chart(report)
            context["csv_query"] = f"{self.request.GET.urlencode()}&format=csv".lstrip("&")
            context["rows"] = [
                (row, hours_label(row.median_first_response), hours_label(row.median_resolution))
                for row in report.rows
            ]
            total = report.total
            context["total"] = (
                total,
                hours_label(total.median_first_response),
                hours_label(total.median_resolution),
            )
        return context


def compliance_chart(report) -> dict[str, Any]:
    """Geometry of the SVG bar chart: per group a met-% bar (0–100 %) and a breaches bar scaled to
    the largest breach count."""
    rows = report.rows
    most_breaches = max((row.breached for row in rows), default=0) or 1
    plot = CHART_WIDTH - CHART_LABEL_WIDTH - 120  # room for the value labels
    bars = []
    for index, row in enumerate(rows):
        y = 28 + index * (2 * CHART_BAR_HEIGHT + 14)
        met = row.met_percent
        bars.append(
            {
                "row": row,
                "y": y,
                "label_y": y + CHART_BAR_HEIGHT - 4,
                "met_width": round((met or 0) / 100 * plot, 1),
                "met_label": "no outcome yet" if met is None else f"{met:.1f} % met",
                "breach_y": y + CHART_BAR_HEIGHT + 2,
                "breach_width": round(row.breached / most_breaches * plot, 1),
                "breach_label": f"{row.breached} breach{'es' if row.breached != 1 else ''}",
                "breach_text_y": y + 2 * CHART_BAR_HEIGHT - 2,
            }
        )
    height = 40 + len(rows) * (2 * CHART_BAR_HEIGHT + 14)
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": height,
        "label_width": CHART_LABEL_WIDTH,
        "plot_x": CHART_LABEL_WIDTH,
        "plot_width": plot,
        "bar_height": CHART_BAR_HEIGHT,
        "bar_height_minus": CHART_BAR_HEIGHT - 4,
    }


# --- Status mappings (leads) ---------------------------------------------------------------
class StatusMappingListView(PlanViewMixin, TemplateView):
    """Each integration's own status names mapped to ours, with their effect on the clocks."""

    plan_access = "configure"
    template_name = "operations/requests/status_mappings.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        keys = (
            ApiKey.objects.filter(plan=self.plan)
            .order_by("revoked_at", "name")
            .prefetch_related(
                Prefetch("status_mappings", queryset=StatusMapping.objects.order_by("external_status"))
            )
        )
        context.setdefault("form", StatusMappingForm(plan=self.plan))
        context.update(keys=keys)
        return context

    def post(self, request, *args, **kwargs):
        form = StatusMappingForm(request.POST, plan=self.plan)
        if form.is_valid():
            data = form.cleaned_data
            mapping = run_service(
                form,
                lambda: helpdesk_services.status_mapping_create(
                    api_key=data["api_key"],
                    external_status=data["external_status"],
                    status=data["status"],
                    clock_effect=data["clock_effect"] or "",
                ),
            )
            if mapping is not None:
                messages.success(
                    request, f"“{mapping.external_status}” now maps to {mapping.get_status_display()}."
                )
                return redirect("status-mappings", self.plan.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class _MappingMixin(PlanViewMixin):
    plan_access = "configure"

    def get_mapping(self) -> StatusMapping:
        mapping = StatusMapping.objects.for_user(self.request.user).filter(
            plan=self.plan, pk=self.kwargs["mapping_id"]
        )
        found = mapping.select_related("api_key").first()
        if found is None:
            raise Http404("No such status mapping in this plan.")
        return found


class StatusMappingEditView(_MappingMixin, TemplateView):
    template_name = "operations/requests/status_mapping_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        mapping = self.get_mapping()
        context.setdefault("form", StatusMappingForm(instance=mapping, plan=self.plan))
        context.update(mapping=mapping)
        return context

    def post(self, request, *args, **kwargs):
        mapping = self.get_mapping()
        form = StatusMappingForm(request.POST, instance=mapping, plan=self.plan)
        if form.is_valid():
            data = form.cleaned_data
            updated = run_service(
                form,
                lambda: helpdesk_services.status_mapping_update(
                    mapping=StatusMapping.objects.get(pk=mapping.pk),
                    external_status=data["external_status"],
                    status=data["status"],
                    clock_effect=data["clock_effect"] or "",
                ),
            )
            if updated is not None:
                messages.success(request, f"“{updated.external_status}” saved.")
                return redirect("status-mappings", self.plan.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class StatusMappingDeleteView(_MappingMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        mapping = self.get_mapping()
        name = mapping.external_status
        helpdesk_services.status_mapping_delete(mapping=mapping)
        messages.success(request, f"“{name}” removed: the helpdesk can no longer send it.")
        return redirect(reverse("status-mappings", args=[self.plan.slug]))
