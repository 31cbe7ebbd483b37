"""Browser UI of the maintenance calendar: month and week grids, the occurrence list ("my tasks"
too), task pages with history, the task form with its pattern builder, complete / skip / move
(htmx-friendly), freeze and update windows, conflicts, and the iCalendar feed tokens; plus the feed
itself, which calendar clients fetch with the secret token in the URL (no login).

Reads go through ``operations.maintenance_selectors`` (scoped to the user), writes through
``operations.maintenance_services`` / ``calendar_services`` / ``feed_services``. Times are shown in
the viewer's zone: ``?tz=`` when valid, else their notification settings' zone, else UTC.
"""

from __future__ import annotations

import calendar as pycalendar
import copy
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView, TemplateView
from django_htmx.http import HttpResponseClientRefresh

from models_catalog.models import Person
from operations import calendar_services, feed_services, feeds, maintenance_catalogue, recurrence
from operations import maintenance_selectors as selectors
from operations import maintenance_services as services
from operations.forms_maintenance import (
    PATTERN_FIELDS,
    FeedTokenForm,
    OccurrenceCompleteForm,
    OccurrenceFilterForm,
    OccurrenceMoveForm,
    OccurrenceSkipForm,
    PatternPreviewForm,
    PresetYearForm,
    TaskForm,
    WindowForm,
    time_zone_choices,
)
from operations.models import (
    FREEZING_KINDS,
    UPDATE_KINDS,
    CalendarEvent,
    FeedScope,
    FeedToken,
    MaintenanceTask,
    NotificationSettings,
    OccurrenceStatus,
    TaskOccurrence,
)
from supportplan.models import validate_timezone
from supportplan.views_base import PlanObjectFormView, PlanViewMixin, run_service

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LIST_PAGE_SIZE = 100
DEFAULT_LIST_PAST = timedelta(days=30)
DEFAULT_LIST_AHEAD = timedelta(days=90)
NEXT_OCCURRENCES = 8


# --- Helpers --------------------------------------------------------------------------------
def display_zone(request) -> str:
    """The zone times are shown in: a valid ``?tz=``, the user's notification zone, else UTC."""
    wanted = request.GET.get("tz", "")
    if wanted:
        try:
            validate_timezone(wanted)
            return wanted
        except ValidationError:
            pass
    if request.user.is_authenticated:
        zone = (
            NotificationSettings.objects.filter(user=request.user).values_list("timezone", flat=True).first()
        )
        if zone:
            return zone
    return "UTC"


def _parse_date(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return None
    return day if 1970 <= day.year <= 2200 else None


def _local_bounds(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    """Aware instants of [first 00:00, last+1 00:00) in ``zone``."""
    tz = ZoneInfo(zone)
    return (
        datetime.combine(first, time.min, tz),
        datetime.combine(last + timedelta(days=1), time.min, tz),
    )


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def plan_windows(*, user, plan, start: datetime | None = None, end: datetime | None = None):
    """Freeze windows (``blocks_maintenance``) and update/release windows of the plan, scoped."""
    windows = (
        CalendarEvent.objects.for_user(user)
        .filter(plan=plan)
        .filter(Q(blocks_maintenance=True) | Q(kind__in=UPDATE_KINDS) | Q(kind__in=FREEZING_KINDS))
        .select_related("party")
        .order_by("starts_at", "id")
    )
    if start is not None:
        windows = windows.filter(ends_at__gt=start)
    if end is not None:
        windows = windows.filter(starts_at__lt=end)
    return windows


@dataclass
class Entry:
    """One occurrence as the grids and lists show it."""

    occurrence: TaskOccurrence
    state: str
    local_due: datetime
    conflicts: list = field(default_factory=list)
    can_act: bool = False

    @property
    def category_label(self) -> str:
        return maintenance_catalogue.category_label(self.occurrence.task.category)

    @property
    def task(self) -> MaintenanceTask:
        return self.occurrence.task

    @property
    def is_open(self) -> bool:
        return self.occurrence.status == OccurrenceStatus.OPEN


@dataclass
class Day:
    date: date
    in_month: bool
    is_today: bool
    entries: list[Entry] = field(default_factory=list)
    windows: list[CalendarEvent] = field(default_factory=list)

    @property
    def frozen(self) -> bool:
        return any(window.blocks_maintenance for window in self.windows)

    @property
    def has_late(self) -> bool:
        return any(entry.state == "late" for entry in self.entries)


class _MaintenanceMixin(PlanViewMixin):
    """Shared context: display zone, edit rights, and the filters of the grids and the list."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("zone", self.zone)
        context.setdefault("can_edit", self.can_edit)
        return context

    def dispatch(self, request, *args, **kwargs):
        self.zone = display_zone(request) if request.user.is_authenticated else "UTC"
        return super().dispatch(request, *args, **kwargs)

    @property
    def can_edit(self) -> bool:
        if not hasattr(self, "_can_edit"):
            self._can_edit = selectors.can_edit_task(self.request.user, self.plan)
        return self._can_edit

    def require_edit(self) -> None:
        if not self.can_edit:
            raise PermissionDenied("Only the plan's leads change maintenance tasks and windows.")

    def entries(self, occurrences, *, now: datetime, conflicts: dict[int, list] | None = None) -> list[Entry]:
        tz = ZoneInfo(self.zone)
        conflicts = conflicts or {}
        user = self.request.user
        occurrences = list(occurrences)
        for occurrence in occurrences:
            if occurrence.plan_id == self.plan.pk:
                occurrence.plan = self.plan  # can_complete reads it: no query per row
        return [
            Entry(
                occurrence=occurrence,
                state=str(selectors.occurrence_state(occurrence, now=now)),
                local_due=occurrence.due_at.astimezone(tz),
                conflicts=conflicts.get(occurrence.pk, []),
                can_act=occurrence.status == OccurrenceStatus.OPEN
                and selectors.can_complete(user, occurrence),
            )
            for occurrence in occurrences
        ]

    def conflicts_by_occurrence(self, *, start: datetime, end: datetime) -> dict[int, list]:
        found: dict[int, list] = defaultdict(list)
        for conflict in selectors.conflicts_for(plan=self.plan, start=start, end=end):
            found[conflict.occurrence.pk].append(conflict.event)
        return found

    def filter_form(self) -> OccurrenceFilterForm:
        if not hasattr(self, "_filter_form"):
            form = OccurrenceFilterForm(self.request.GET or None, plan=self.plan)
            if form.is_bound:
                form.is_valid()  # fills cleaned_data; invalid filters are shown and ignored
            self._filter_form = form
        return self._filter_form

    def filters(self) -> dict[str, Any]:
        form = self.filter_form()
        data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
        return {
            "owner": data.get("owner") if "owner" not in form.errors else None,
            "category": data.get("category") or None,
        }

    def state_filter(self) -> str | None:
        form = self.filter_form()
        data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
        return data.get("state") or None

    def occurrences(
        self, *, start: datetime, end: datetime, mine: bool, now: datetime
    ) -> list[TaskOccurrence]:
        """The visible occurrences due in [start, end) matching the filters, in due order.

        The displayed state is filtered here with ``occurrence_state`` itself (the grid and list
        windows are bounded), so the filter and the badges can never disagree.
        """
        occurrences = selectors.occurrences_for(
            user=self.request.user, plan=self.plan, start=start, end=end, mine=mine, **self.filters()
        )
        state = self.state_filter()
        if not state:
            return list(occurrences)
        return [item for item in occurrences if selectors.occurrence_state(item, now=now) == state]

    def query_without(self, *names: str) -> str:
        query = self.request.GET.copy()
        for name in names:
            query.pop(name, None)
        return query.urlencode()


# --- Calendar grids -------------------------------------------------------------------------
class _GridView(_MaintenanceMixin, TemplateView):
    def grid(self, first: date, last: date, *, month: int | None = None) -> list[Day]:
        now = timezone.now()
        start, end = _local_bounds(first, last, self.zone)
        mine = self.request.GET.get("mine") == "1"
        occurrences = self.occurrences(start=start, end=end, mine=mine, now=now)
        conflicts = self.conflicts_by_occurrence(start=start, end=end)
        entries = self.entries(occurrences, now=now, conflicts=conflicts)
        today = now.astimezone(ZoneInfo(self.zone)).date()
        days = {
            first + timedelta(days=offset): Day(
                date=first + timedelta(days=offset),
                in_month=month is None or (first + timedelta(days=offset)).month == month,
                is_today=first + timedelta(days=offset) == today,
            )
            for offset in range((last - first).days + 1)
        }
        for entry in entries:
            day = days.get(entry.local_due.date())
            if day is not None:
                day.entries.append(entry)
        tz = ZoneInfo(self.zone)
        for window in plan_windows(user=self.request.user, plan=self.plan, start=start, end=end):
            local_start = window.starts_at.astimezone(tz).date()
            # An end at local midnight does not touch that day.
            local_end = (window.ends_at.astimezone(tz) - timedelta(microseconds=1)).date()
            day = max(local_start, first)
            while day <= min(local_end, last):
                days[day].windows.append(window)
                day += timedelta(days=1)
        return list(days.values())

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            filter_form=self.filter_form(),
            mine=self.request.GET.get("mine") == "1",
            keep_query=self.query_without("month", "week"),
            day_names=DAY_NAMES,
            **kwargs,
        )


class MonthCalendarView(_GridView):
    """The month grid (``?month=YYYY-MM``): weeks Monday to Sunday, late work red, freezes shaded."""

    template_name = "operations/maintenance/month.html"

    def month(self) -> date:
        value = self.request.GET.get("month", "")
        try:
            year, month = (int(part) for part in value.split("-"))
            first = date(year, month, 1)
            if 1970 <= year <= 2200:
                return first
        except ValueError:
            pass
        today = timezone.now().astimezone(ZoneInfo(self.zone)).date()
        return today.replace(day=1)

    def get_context_data(self, **kwargs):
        first_of_month = self.month()
        last_of_month = first_of_month.replace(
            day=pycalendar.monthrange(first_of_month.year, first_of_month.month)[1]
        )
        first = first_of_month - timedelta(days=first_of_month.weekday())
        last = last_of_month + timedelta(days=6 - last_of_month.weekday())
        days = self.grid(first, last, month=first_of_month.month)
        previous = (first_of_month - timedelta(days=1)).replace(day=1)
        following = last_of_month + timedelta(days=1)
        return super().get_context_data(
            month=first_of_month,
            weeks=[days[index : index + 7] for index in range(0, len(days), 7)],
            previous_month=f"{previous:%Y-%m}",
            next_month=f"{following:%Y-%m}",
            late_count=sum(1 for day in days for entry in day.entries if entry.state == "late"),
            **kwargs,
        )


class WeekCalendarView(_GridView):
    """The week grid (``?week=`` any ISO date in it): seven columns, occurrences by time."""

    template_name = "operations/maintenance/week.html"

    def get_context_data(self, **kwargs):
        day = (
            _parse_date(self.request.GET.get("week")) or timezone.now().astimezone(ZoneInfo(self.zone)).date()
        )
        first = day - timedelta(days=day.weekday())
        days = self.grid(first, first + timedelta(days=6))
        return super().get_context_data(
            week_start=first,
            week_end=first + timedelta(days=6),
            days=days,
            previous_week=f"{first - timedelta(days=7):%Y-%m-%d}",
            next_week=f"{first + timedelta(days=7):%Y-%m-%d}",
            **kwargs,
        )


# --- List and "my tasks" --------------------------------------------------------------------
class OccurrenceListView(_MaintenanceMixin, TemplateView):
    """Occurrences with filters (owner, category, state, date range); "my tasks" sets ``mine``."""

    template_name = "operations/maintenance/list.html"
    mine = False

    def get_context_data(self, **kwargs):
        now = timezone.now()
        form = self.filter_form()
        data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
        today = now.astimezone(ZoneInfo(self.zone)).date()
        first = (
            data.get("start")
            if "start" not in form.errors and data.get("start")
            else today - DEFAULT_LIST_PAST
        )
        last = data.get("end") if "end" not in form.errors and data.get("end") else today + DEFAULT_LIST_AHEAD
        if last < first:
            last = first
        start, end = _local_bounds(first, last, self.zone)
        occurrences = self.occurrences(start=start, end=end, mine=self.mine, now=now)
        page = Paginator(occurrences, LIST_PAGE_SIZE).get_page(self.request.GET.get("page"))
        conflicts = self.conflicts_by_occurrence(start=start, end=end)
        my_people = list(Person.objects.filter(plan=self.plan, user=self.request.user)) if self.mine else []
        return super().get_context_data(
            filter_form=form,
            entries=self.entries(page.object_list, now=now, conflicts=conflicts),
            page=page,
            range_start=first,
            range_end=last,
            mine=self.mine,
            my_people=my_people,
            keep_query=self.query_without("page"),
            **kwargs,
        )


class MyTasksView(OccurrenceListView):
    mine = True


# --- Tasks ----------------------------------------------------------------------------------
class _TaskMixin(_MaintenanceMixin):
    def get_task(self) -> MaintenanceTask:
        if not hasattr(self, "_task"):
            self._task = get_object_or_404(
                MaintenanceTask.objects.for_user(self.request.user).select_related(
                    "owner",
                    "backup",
                    "responsible_role",
                    "responsible_party",
                    "working_calendar",
                    "scope_item",
                ),
                plan=self.plan,
                pk=self.kwargs["task_id"],
            )
        return self._task


class TaskDetailView(_TaskMixin, TemplateView):
    """Details, the rule in words, the next occurrences, conflicts and the history."""

    template_name = "operations/maintenance/task.html"

    def get_context_data(self, **kwargs):
        task = self.get_task()
        if "tz" not in self.request.GET:
            self.zone = task.timezone  # a task's dates read best in its own zone
        now = timezone.now()
        upcoming = list(
            task.occurrences.filter(status=OccurrenceStatus.OPEN)
            .select_related("task")
            .order_by("due_at")[: NEXT_OCCURRENCES * 3]
        )
        conflicts: dict[int, list] = defaultdict(list)
        for conflict in selectors.conflicts_for_task(task, start=upcoming[0].due_at if upcoming else now):
            conflicts[conflict.occurrence.pk].append(conflict.event)
        open_entries = self.entries(upcoming, now=now, conflicts=conflicts)
        overdue = [entry for entry in open_entries if entry.state in ("due", "late")]
        following = [entry for entry in open_entries if entry.state == "upcoming"][:NEXT_OCCURRENCES]
        history = self.entries(selectors.task_history(task), now=now)
        return super().get_context_data(
            task=task,
            rule_text=recurrence.describe(
                task.rrule, shift=recurrence.pattern_shift(task.pattern) or task.non_working_day_shift
            ),
            category_label=maintenance_catalogue.category_label(task.category),
            overdue=overdue,
            upcoming=following,
            history=history,
            task_conflicts=[entry for entry in open_entries if entry.conflicts],
            **kwargs,
        )


class TaskFormView(_TaskMixin, PlanObjectFormView):
    """Create (no ``task_id``; ``?category=`` pre-fills from the catalogue) or edit a task."""

    template_name = "operations/maintenance/task_form.html"
    form_class = TaskForm
    model = MaintenanceTask
    context_object_name = "task"

    def get(self, request, *args, **kwargs):
        self.require_edit()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.require_edit()
        return super().post(request, *args, **kwargs)

    def get_object(self) -> MaintenanceTask | None:
        return self.get_task() if "task_id" in self.kwargs else None

    def catalogue_entry(self):
        if self.get_object() is not None:
            return None
        return maintenance_catalogue.CATEGORY_BY_KEY.get(self.request.GET.get("category", ""))

    def get_initial(self):
        initial = super().get_initial()
        if self.get_object() is not None:
            return initial
        today = timezone.now().astimezone(ZoneInfo(self.zone)).date()
        initial.update(
            starts_on=today,
            local_time=time(9, 0),
            timezone=self.zone,
            category="other",
            pattern_kind="weekly",
            days=[("MO", "TU", "WE", "TH", "FR", "SA", "SU")[today.weekday()]],
        )
        entry = self.catalogue_entry()
        if entry is not None:
            initial.update(
                category=entry.key,
                title=entry.label,
                description=entry.description,
                reminder_lead_minutes=entry.suggested_lead_minutes,
                duration_minutes=entry.suggested_duration_minutes,
                evidence_required=entry.evidence_required,
            )
            if entry.pattern:
                from operations.forms_maintenance import builder_initial

                initial.update(builder_initial(entry.pattern, entry.rrule))
        return initial

    def get_context_data(self, **kwargs):
        entry = self.catalogue_entry()
        return super().get_context_data(
            catalogue=maintenance_catalogue.CATEGORIES,
            suggestion=entry,
            suggested_rule=recurrence.describe(entry.rrule) if entry and entry.rrule else "",
            time_zones=time_zone_choices(),
            pattern_fields=PATTERN_FIELDS,
            **kwargs,
        )

    def create(self, fields):
        return services.task_create(plan=self.plan, actor=self.request.user, **fields)

    def update(self, obj, fields):
        return services.task_update(task=obj, actor=self.request.user, **fields)

    def saved(self, result):
        rule = recurrence.describe(result.rrule, shift=result.non_working_day_shift)
        messages.success(self.request, f"“{result.title}” saved: {rule}.")
        clashes = selectors.conflicts_for_task(result)
        if clashes:
            # Warned when planned: the conflicts page lists them with a one-click move.
            names = sorted({conflict.event.name for conflict in clashes})
            count = f"{len(clashes)} occurrence{'s fall' if len(clashes) != 1 else ' falls'}"
            listed = ", ".join(names[:3]) + ("…" if len(names) > 3 else "")
            messages.warning(self.request, f"{count} inside freeze windows ({listed}).")
        return redirect("maintenance-task", self.plan.slug, result.pk)


class PatternPreviewView(_MaintenanceMixin, TemplateView):
    """The builder's live preview (htmx GET with the task form's fields): the rule in words and the
    next occurrences in the task's zone, each flagged when it falls inside a freeze window."""

    template_name = "operations/maintenance/_pattern_preview.html"
    count = 6

    def get_context_data(self, **kwargs):
        form = PatternPreviewForm(self.request.GET)
        form.limit_to_plan(self.plan)
        context = super().get_context_data(preview_form=form, **kwargs)
        if not form.is_valid():
            return context
        data = form.cleaned_data
        shift = recurrence.pattern_shift(data.get("pattern")) or data.get("non_working_day_shift") or "none"
        checker = (
            selectors.working_day_checker(data.get("working_calendar"))
            if shift in ("previous", "next")
            else None
        )
        now = timezone.now()
        instants = recurrence.expand(
            rrule=data["rrule"],
            starts_on=data["starts_on"],
            local_time=data["local_time"],
            tz=data["timezone"],
            window_start=now,
            window_end=now + timedelta(days=services.HORIZON_DAYS),
            ends_on=data.get("ends_on"),
            shift=shift,
            is_working_day=checker,
        )[: self.count]
        freezes = []
        if instants:
            freezes = list(
                CalendarEvent.objects.for_user(self.request.user).filter(
                    plan=self.plan,
                    blocks_maintenance=True,
                    starts_at__lte=instants[-1][1],
                    ends_at__gt=instants[0][1],
                )
            )
        context.update(
            rule_text=recurrence.describe(data["rrule"], shift=shift),
            rrule=data["rrule"],
            preview_zone=data["timezone"],
            upcoming=[
                (due, [window for window in freezes if window.starts_at <= due < window.ends_at])
                for _original, due in instants
            ],
        )
        return context


class TaskDeleteView(_TaskMixin, View):
    def post(self, request, *args, **kwargs):
        self.require_edit()
        task = self.get_task()
        services.task_delete(task=task, actor=request.user)
        messages.success(request, f"“{task.title}” removed with its open occurrences.")
        return redirect("maintenance-calendar", self.plan.slug)


# --- Occurrence actions ---------------------------------------------------------------------
class _OccurrenceActionView(_MaintenanceMixin, TemplateView):
    """GET: the form (a fragment for htmx); POST: the action. 403 when not allowed; errors re-shown."""

    template_name = "operations/maintenance/occurrence_action.html"
    fragment_template = "operations/maintenance/_occurrence_action.html"
    action = ""
    title = ""
    button = ""

    def get_occurrence(self) -> TaskOccurrence:
        if not hasattr(self, "_occurrence"):
            self._occurrence = get_object_or_404(
                TaskOccurrence.objects.for_user(self.request.user).select_related(
                    "plan", "task", "task__owner", "task__backup"
                ),
                plan=self.plan,
                pk=self.kwargs["occurrence_id"],
            )
        return self._occurrence

    def check_allowed(self, occurrence: TaskOccurrence) -> None:
        if not selectors.can_complete(self.request.user, occurrence):
            raise PermissionDenied("Only the task's owner, its backup or the plan's leads can do this.")
        if occurrence.status != OccurrenceStatus.OPEN and self.action != "reopen":
            raise PermissionDenied(f"This occurrence is already {occurrence.get_status_display().lower()}.")

    def make_form(self, data=None):
        raise NotImplementedError

    def perform(self, form, occurrence):
        raise NotImplementedError

    def get_template_names(self):
        return [self.fragment_template] if getattr(self.request, "htmx", False) else [self.template_name]

    def get_context_data(self, **kwargs):
        occurrence = self.get_occurrence()
        tz = ZoneInfo(occurrence.task.timezone)
        return super().get_context_data(
            occurrence=occurrence,
            task=occurrence.task,
            local_due=occurrence.due_at.astimezone(tz),
            state=str(selectors.occurrence_state(occurrence, now=timezone.now())),
            action=self.action,
            title=self.title,
            button=self.button,
            next=_safe_next(
                self.request, reverse("maintenance-task", args=[self.plan.slug, occurrence.task_id])
            ),
            **kwargs,
        )

    def get(self, request, *args, **kwargs):
        occurrence = self.get_occurrence()
        self.check_allowed(occurrence)
        return self.render_to_response(self.get_context_data(form=self.make_form()))

    def post(self, request, *args, **kwargs):
        occurrence = self.get_occurrence()
        self.check_allowed(occurrence)
        form = self.make_form(request.POST)
        if form.is_valid() and run_service(form, lambda: self.perform(form, occurrence)) is not None:
            messages.success(request, self.done_message(occurrence))
            if getattr(request, "htmx", False):
                return HttpResponseClientRefresh()
            return redirect(
                _safe_next(request, reverse("maintenance-task", args=[self.plan.slug, occurrence.task_id]))
            )
        return self.render_to_response(
            self.get_context_data(form=form), status=400 if not request.htmx else 200
        )

    def done_message(self, occurrence) -> str:
        return f"“{occurrence.task.title}” updated."


class OccurrenceCompleteView(_OccurrenceActionView):
    action, title, button = "complete", "Complete", "Mark done"

    def make_form(self, data=None):
        return OccurrenceCompleteForm(data, evidence_required=self.get_occurrence().task.evidence_required)

    def perform(self, form, occurrence):
        return services.occurrence_complete(
            occurrence=occurrence,
            actor=self.request.user,
            notes=form.cleaned_data["notes"],
            evidence_url=form.cleaned_data["evidence_url"],
        )

    def done_message(self, occurrence) -> str:
        return f"“{occurrence.task.title}” marked done."


class OccurrenceSkipView(_OccurrenceActionView):
    action, title, button = "skip", "Skip", "Skip this occurrence"

    def make_form(self, data=None):
        return OccurrenceSkipForm(data)

    def perform(self, form, occurrence):
        return services.occurrence_skip(
            occurrence=occurrence, actor=self.request.user, reason=form.cleaned_data["reason"]
        )

    def done_message(self, occurrence) -> str:
        return f"“{occurrence.task.title}” skipped this time."


class OccurrenceMoveView(_OccurrenceActionView):
    action, title, button = "move", "Move", "Move"

    def make_form(self, data=None):
        occurrence = self.get_occurrence()
        zone = occurrence.task.timezone
        initial = {"due_at": occurrence.due_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")}
        return OccurrenceMoveForm(data, zone=zone, initial=initial)

    def perform(self, form, occurrence):
        return services.occurrence_move(
            occurrence=occurrence,
            actor=self.request.user,
            due_at=form.cleaned_data["due_at"],
            reason=form.cleaned_data["reason"],
        )

    def done_message(self, occurrence) -> str:
        frozen = selectors.conflicts_for_occurrence(occurrence)
        if frozen:
            # Moving into a freeze is allowed (someone decided), but never silently.
            messages.warning(self.request, f"The new time is inside the freeze window “{frozen[0].name}”.")
        return f"“{occurrence.task.title}” moved."


# --- Windows --------------------------------------------------------------------------------
class WindowsView(_MaintenanceMixin, TemplateView):
    """Freeze and update windows; leads add freezes and apply Microsoft's update-window presets."""

    template_name = "operations/maintenance/windows.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        show_past = self.request.GET.get("past") == "1"
        windows = plan_windows(
            user=self.request.user, plan=self.plan, start=None if show_past else now - timedelta(days=31)
        )
        windows = list(windows)
        context = super().get_context_data(
            freezes=[window for window in windows if window.blocks_maintenance],
            update_windows=[window for window in windows if not window.blocks_maintenance],
            show_past=show_past,
            **kwargs,
        )
        if self.can_edit:
            if "form" not in context:
                form = WindowForm(initial={"time_zone": self.zone})
                form.limit_to_plan(self.plan)
                context["form"] = form
            context.setdefault(
                "preset_form", PresetYearForm(initial={"year": now.year + 1 if now.month > 9 else now.year})
            )
            context["time_zones"] = time_zone_choices()
        return context

    def post(self, request, *args, **kwargs):
        self.require_edit()
        form = WindowForm(request.POST)
        form.limit_to_plan(self.plan)
        if form.is_valid() and run_service(
            form, lambda: calendar_services.calendar_event_create(plan=self.plan, **form.service_fields())
        ):
            messages.success(request, f"“{form.cleaned_data['name']}” added.")
            return redirect("maintenance-windows", self.plan.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class WindowPresetsView(_MaintenanceMixin, TemplateView):
    """POST: adds Microsoft's service-update and release-wave windows of a year (idempotent)."""

    template_name = "operations/maintenance/windows.html"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.require_edit()
        form = PresetYearForm(request.POST)
        if form.is_valid():
            result = run_service(
                form,
                lambda: services.update_window_presets_apply(
                    plan=self.plan, year=form.cleaned_data["year"], actor=request.user
                ),
            )
            if result is not None:
                count = len(result) if hasattr(result, "__len__") else result
                messages.success(
                    request,
                    f"Microsoft update windows for {form.cleaned_data['year']} applied ({count} new).",
                )
                return redirect("maintenance-windows", self.plan.slug)
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("maintenance-windows", self.plan.slug)


class _WindowMixin(_MaintenanceMixin):
    def get_window(self) -> CalendarEvent:
        if not hasattr(self, "_window"):
            self._window = get_object_or_404(
                plan_windows(user=self.request.user, plan=self.plan), pk=self.kwargs["window_id"]
            )
        return self._window


class WindowFormView(_WindowMixin, FormView):
    template_name = "operations/maintenance/window_form.html"
    form_class = WindowForm

    def get(self, request, *args, **kwargs):
        self.require_edit()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.require_edit()
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": copy.copy(self.get_window())}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.limit_to_plan(self.plan)
        return form

    def get_context_data(self, **kwargs):
        return super().get_context_data(window=self.get_window(), time_zones=time_zone_choices(), **kwargs)

    def form_valid(self, form):
        window = self.get_window()
        result = run_service(
            form, lambda: calendar_services.calendar_event_update(event=window, **form.service_fields())
        )
        if result is None:
            return self.form_invalid(form)
        messages.success(self.request, f"“{result.name}” saved.")
        return redirect("maintenance-windows", self.plan.slug)


class WindowDeleteView(_WindowMixin, View):
    def post(self, request, *args, **kwargs):
        self.require_edit()
        window = self.get_window()
        calendar_services.calendar_event_delete(event=window)
        messages.success(request, f"“{window.name}” removed.")
        return redirect("maintenance-windows", self.plan.slug)


# --- Conflicts ------------------------------------------------------------------------------
def next_day_after(window: CalendarEvent, task: MaintenanceTask) -> datetime:
    """The task's local time on the first day the window no longer covers (aware UTC)."""
    tz = ZoneInfo(task.timezone)
    end_local = window.ends_at.astimezone(tz)
    candidate = datetime.combine(end_local.date(), task.local_time, tz)
    if candidate < end_local:
        candidate = datetime.combine(end_local.date() + timedelta(days=1), task.local_time, tz)
    return candidate.astimezone(ZoneInfo("UTC"))


class ConflictsView(_MaintenanceMixin, TemplateView):
    """Open occurrences inside freeze windows, each with a "move after the window" action."""

    template_name = "operations/maintenance/conflicts.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        conflicts = selectors.conflicts_for(
            plan=self.plan, start=now - timedelta(days=31), end=now + feeds.AHEAD
        )
        visible = set(
            TaskOccurrence.objects.for_user(self.request.user)
            .filter(pk__in=[conflict.occurrence.pk for conflict in conflicts])
            .values_list("pk", flat=True)
        )
        tz = ZoneInfo(self.zone)
        for conflict in conflicts:
            conflict.occurrence.plan = self.plan  # can_complete reads it: no query per row
        rows = [
            {
                "occurrence": conflict.occurrence,
                "event": conflict.event,
                "local_due": conflict.occurrence.due_at.astimezone(tz),
                "state": str(selectors.occurrence_state(conflict.occurrence, now=now)),
                "move_to": next_day_after(conflict.event, conflict.occurrence.task).astimezone(tz),
                "can_move": selectors.can_complete(self.request.user, conflict.occurrence),
            }
            for conflict in conflicts
            if conflict.occurrence.pk in visible
        ]
        return super().get_context_data(rows=rows, **kwargs)


class ConflictMoveView(_MaintenanceMixin, View):
    """POST ``event_id``: moves the occurrence to the task's time on the first day after the window."""

    def post(self, request, *args, **kwargs):
        occurrence = get_object_or_404(
            TaskOccurrence.objects.for_user(request.user).select_related(
                "plan", "task", "task__owner", "task__backup"
            ),
            plan=self.plan,
            pk=kwargs["occurrence_id"],
        )
        window = get_object_or_404(
            plan_windows(user=request.user, plan=self.plan), pk=request.POST.get("event_id") or 0
        )
        if not selectors.can_complete(request.user, occurrence):
            raise PermissionDenied("Only the task's owner, its backup or the plan's leads can move it.")
        due_at = next_day_after(window, occurrence.task)
        try:
            services.occurrence_move(
                occurrence=occurrence,
                actor=request.user,
                due_at=due_at,
                reason=f"Moved out of “{window.name}”.",
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            local = due_at.astimezone(ZoneInfo(occurrence.task.timezone))
            messages.success(
                request, f"“{occurrence.task.title}” moved to {local:%a %d %b %Y %H:%M} ({local.tzname()})."
            )
        return redirect(_safe_next(request, reverse("maintenance-conflicts", args=[self.plan.slug])))


# --- Feeds ----------------------------------------------------------------------------------
def feed_url(request, raw: str) -> str:
    return request.build_absolute_uri(reverse("maintenance-feed", args=[raw]))


class FeedsView(_MaintenanceMixin, TemplateView):
    """Subscribe URLs: the plan's (leads manage it) and mine (or anyone's, for leads)."""

    template_name = "operations/maintenance/feeds.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        tokens = (
            FeedToken.objects.for_user(user)
            .filter(plan=self.plan, revoked_at__isnull=True)
            .select_related("person", "created_by")
        )
        my_people = list(Person.objects.filter(plan=self.plan, user=user))
        if not self.can_configure:
            tokens = tokens.filter(Q(scope=FeedScope.PLAN) | Q(person__user=user))
        context = super().get_context_data(
            tokens=list(tokens),
            my_people=my_people,
            **kwargs,
        )
        if self.can_configure:
            form = FeedTokenForm(plan=self.plan)
            context["people"] = Person.objects.filter(plan=self.plan).order_by("name")
            context.setdefault("token_form", form)
        return context

    def post(self, request, *args, **kwargs):
        form = FeedTokenForm(request.POST, plan=self.plan)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(token_form=form), status=400)
        scope, person = form.cleaned_data["scope"], form.cleaned_data["person"]
        try:
            token, raw = feed_services.feed_token_create(
                plan=self.plan, scope=scope, person=person, actor=request.user
            )
        except ValidationError as error:
            for name, errors in getattr(error, "message_dict", {None: error.messages}).items():
                form.add_error(name if name in form.fields else None, errors)
            return self.render_to_response(self.get_context_data(token_form=form), status=400)
        messages.success(
            request, "New subscription URL created; any previous URL of this feed stops working now."
        )
        return self.render_to_response(self.get_context_data(new_token=token, new_url=feed_url(request, raw)))


class FeedRevokeView(_MaintenanceMixin, View):
    def post(self, request, *args, **kwargs):
        token = get_object_or_404(
            FeedToken.objects.for_user(request.user).select_related("plan", "person"),
            plan=self.plan,
            pk=kwargs["token_id"],
            revoked_at__isnull=True,
        )
        feed_services.feed_token_revoke(token=token, actor=request.user)
        messages.success(request, f"{token} revoked: its URL no longer works.")
        return redirect("maintenance-feeds", self.plan.slug)


class MaintenanceFeedView(View):
    """``/feeds/<token>.ics``: the iCalendar feed. The token is the credential (calendar clients
    cannot sign in), so this view is public; an unknown, revoked or rotated token is a 404.
    Answers 304 to a matching If-None-Match / If-Modified-Since."""

    http_method_names = ["get", "head"]

    def get(self, request, token: str):
        feed_token = feed_services.feed_token_resolve(token)
        if feed_token is None:
            raise Http404("No such feed.")
        now = timezone.now()
        feed = feeds.feed_build(feed_token, now=now, base_url=settings.SITE_URL)
        last_modified = int(feeds.feed_changed_at(feed_token, feed.etag, now=now).timestamp())
        not_modified = get_conditional_response(request, etag=feed.etag, last_modified=last_modified)
        headers = {
            "ETag": feed.etag,
            "Last-Modified": http_date(last_modified),
            "Cache-Control": "private, max-age=300",
            "X-Robots-Tag": "noindex",
        }
        if not_modified is not None:
            for name, value in headers.items():
                not_modified[name] = value
            return not_modified
        response = HttpResponse(feed.body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="maintenance.ics"'
        for name, value in headers.items():
            response[name] = value
        return response
