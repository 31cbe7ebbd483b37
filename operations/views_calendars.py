"""Browser UI for service calendars: list, week grid, holidays (custom and imported with a preview),
extra open periods, calendar events, and the coverage view. Everyone in the plan reads (partners
too: they need to know when the service is open); leads change."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from itertools import groupby

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from operations import calendar_selectors as selectors
from operations import calendar_services as services
from operations.forms_calendars import (
    DAYS,
    CalendarEventForm,
    CalendarForm,
    ExtraPeriodForm,
    HolidayForm,
    HolidayImportForm,
    grid_columns,
    grid_rows,
    windows_to_cells,
)
from operations.models import CalendarEvent, CalendarHoliday, ExtraOpenPeriod, ServiceCalendar
from supportplan.views_base import PlanObjectFormView, PlanViewMixin, run_service


class _CalendarMixin(PlanViewMixin):
    """A view of one calendar of the plan (``<calendar_id>`` in the URL): 404 unless visible."""

    def get_calendar(self):
        if not hasattr(self, "_calendar"):
            self._calendar = selectors.plan_calendar(
                user=self.request.user, plan=self.plan, calendar_id=self.kwargs["calendar_id"]
            )
        return self._calendar

    def calendar_url(self) -> str:
        return reverse("calendar-detail", args=[self.plan.slug, self.get_calendar().pk])


class CalendarListView(PlanViewMixin, TemplateView):
    template_name = "operations/calendars/list.html"

    def get_context_data(self, **kwargs):
        calendars = selectors.plan_calendars(user=self.request.user, plan=self.plan)
        return super().get_context_data(calendars=calendars, **kwargs)


class CalendarDetailView(_CalendarMixin, TemplateView):
    """The week grid (read-only), holidays by year, extra periods and events of one calendar."""

    template_name = "operations/calendars/detail.html"

    def get_context_data(self, **kwargs):
        calendar = self.get_calendar()
        holidays = list(selectors.calendar_holidays(calendar=calendar))
        holidays_by_year = [(year, list(rows)) for year, rows in groupby(holidays, key=lambda h: h.date.year)]
        context = super().get_context_data(
            calendar=calendar,
            grid=grid_rows(windows_to_cells(calendar.weekly_windows), prefix="view"),
            columns=grid_columns(),
            windows_by_day=[
                (DAYS[int(day)], windows) for day, windows in sorted(calendar.weekly_windows.items())
            ],
            holidays_by_year=holidays_by_year,
            extra_periods=selectors.calendar_extra_periods(calendar=calendar),
            events=calendar.events.order_by("starts_at"),
            **kwargs,
        )
        if self.can_configure:
            context.setdefault("holiday_form", HolidayForm())
            context.setdefault("period_form", ExtraPeriodForm(calendar=calendar))
        return context


class _CalendarChangeView(CalendarDetailView):
    """A POST that changes one calendar; invalid input re-renders the calendar page with the errors."""

    plan_access = "configure"
    http_method_names = ["post"]

    def invalid(self, **forms):
        return self.render_to_response(self.get_context_data(**forms))


class CalendarFormView(_CalendarMixin, PlanObjectFormView):
    """Create (no ``calendar_id``) or edit a calendar, its weekly windows on the week grid."""

    plan_access = "configure"
    template_name = "operations/calendars/form.html"
    form_class = CalendarForm
    model = ServiceCalendar
    context_object_name = "calendar"

    def get_object(self):
        return self.get_calendar() if "calendar_id" in self.kwargs else None

    def create(self, fields):
        return services.calendar_create(plan=self.plan, **fields)

    def update(self, obj, fields):
        return services.calendar_update(calendar=obj, **fields)

    def saved(self, result):
        messages.success(self.request, f"“{result}” saved.")
        return redirect("calendar-detail", self.plan.slug, result.pk)


class CalendarDeleteView(_CalendarMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        calendar = self.get_calendar()
        try:
            services.calendar_delete(calendar=calendar)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(self.calendar_url())
        messages.success(request, f"“{calendar}” removed.")
        return redirect("calendar-list-page", self.plan.slug)


class HolidayAddView(_CalendarChangeView):
    def post(self, request, *args, **kwargs):
        form = HolidayForm(request.POST)
        calendar = self.get_calendar()
        if form.is_valid() and run_service(
            form,
            lambda: services.holiday_add(
                calendar=calendar, date=form.cleaned_data["date"], name=form.cleaned_data["name"]
            ),
        ):
            messages.success(request, f"{form.cleaned_data['date']:%d %b %Y} added as a holiday.")
            return redirect(self.calendar_url())
        return self.invalid(holiday_form=form)


class HolidayRemoveView(_CalendarMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        holiday = get_object_or_404(CalendarHoliday, calendar=self.get_calendar(), pk=kwargs["holiday_id"])
        services.holiday_remove(holiday=holiday)
        messages.success(request, f"Holiday “{holiday.name}” on {holiday.date:%d %b %Y} removed.")
        return redirect(self.calendar_url())


class ExtraPeriodAddView(_CalendarChangeView):
    def post(self, request, *args, **kwargs):
        calendar = self.get_calendar()
        form = ExtraPeriodForm(request.POST, calendar=calendar)
        if form.is_valid() and run_service(
            form, lambda: services.extra_period_add(calendar=calendar, **form.cleaned_data)
        ):
            messages.success(request, "Extra open period added.")
            return redirect(self.calendar_url())
        return self.invalid(period_form=form)


class ExtraPeriodRemoveView(_CalendarMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        period = get_object_or_404(ExtraOpenPeriod, calendar=self.get_calendar(), pk=kwargs["period_id"])
        services.extra_period_remove(period=period)
        messages.success(request, "Extra open period removed.")
        return redirect(self.calendar_url())


class HolidayImportView(_CalendarMixin, TemplateView):
    """GET: the form; GET with its fields: the preview of what would change; POST: apply it.

    The apply button carries the preview's fingerprint: if the package or the stored holidays would
    now give another preview, nothing changes and the new preview is shown to review again.
    """

    plan_access = "configure"
    template_name = "operations/calendars/holiday_import.html"

    def get(self, request, *args, **kwargs):
        calendar = self.get_calendar()
        if "years" not in request.GET:
            this_year = timezone.now().year
            initial = {
                "years": f"{this_year}–{this_year + 1}",
                "country": calendar.holiday_country,
                "subdivision": calendar.holiday_subdivision,
            }
            return self.render_to_response(self.get_context_data(form=HolidayImportForm(initial=initial)))
        form = HolidayImportForm(request.GET)
        preview = self._preview(form)
        return self.render_to_response(self.get_context_data(form=form, preview=preview))

    def post(self, request, *args, **kwargs):
        form = HolidayImportForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        data = form.cleaned_data
        preview = run_service(
            form,
            lambda: services.holiday_import_apply(
                calendar=self.get_calendar(),
                years=data["years"],
                country=data["country"],
                subdivision=data["subdivision"],
                expected=request.POST.get("fingerprint", ""),
            ),
        )
        if preview is None:
            if any(field != "__all__" for field in form.errors):
                return self.render_to_response(self.get_context_data(form=form))
            # The package or the stored holidays changed since the preview: show the new one.
            for message in form.non_field_errors():
                messages.error(request, message[:1].upper() + message[1:] + ".")
            fresh = HolidayImportForm(request.POST)
            return self.render_to_response(self.get_context_data(form=fresh, preview=self._preview(fresh)))
        messages.success(
            request,
            f"Holidays imported ({preview.source_detail}): {len(preview.added)} added, "
            f"{len(preview.removed)} removed, {len(preview.renamed)} renamed.",
        )
        return redirect(self.calendar_url())

    def _preview(self, form):
        if not form.is_valid():
            return None
        data = form.cleaned_data
        return run_service(
            form,
            lambda: services.holiday_import_preview(
                calendar=self.get_calendar(),
                years=data["years"],
                country=data["country"],
                subdivision=data["subdivision"],
            ),
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(calendar=self.get_calendar(), **kwargs)


class CalendarEventsView(PlanViewMixin, TemplateView):
    """Period-ends, peaks, one-off events and freeze windows; leads add them here."""

    template_name = "operations/calendars/events.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            events=selectors.plan_calendar_events(user=self.request.user, plan=self.plan), **kwargs
        )
        if self.can_configure and "form" not in context:
            form = CalendarEventForm()
            form.limit_to_plan(self.plan)
            context["form"] = form
        return context

    def post(self, request, *args, **kwargs):
        if not self.can_configure:
            raise PermissionDenied("Only the plan's project and support leads can change this.")
        form = CalendarEventForm(request.POST)
        form.limit_to_plan(self.plan)
        if form.is_valid() and run_service(
            form, lambda: services.calendar_event_create(plan=self.plan, **form.service_fields())
        ):
            messages.success(request, f"“{form.cleaned_data['name']}” added.")
            return redirect("calendar-events", self.plan.slug)
        return self.render_to_response(self.get_context_data(form=form))


class _EventMixin(PlanViewMixin):
    plan_access = "configure"

    def get_event(self) -> CalendarEvent:
        if not hasattr(self, "_event"):
            self._event = get_object_or_404(
                CalendarEvent.objects.for_user(self.request.user).select_related("calendar"),
                plan=self.plan,
                pk=self.kwargs["event_id"],
            )
        return self._event


class CalendarEventFormView(_EventMixin, FormView):
    template_name = "operations/calendars/event_form.html"
    form_class = CalendarEventForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": copy.copy(self.get_event())}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.limit_to_plan(self.plan)
        return form

    def get_context_data(self, **kwargs):
        return super().get_context_data(event=self.get_event(), **kwargs)

    def form_valid(self, form):
        event = self.get_event()
        result = run_service(
            form, lambda: services.calendar_event_update(event=event, **form.service_fields())
        )
        if result is None:
            return self.form_invalid(form)
        messages.success(self.request, f"“{result.name}” saved.")
        return redirect("calendar-events", self.plan.slug)


class CalendarEventDeleteView(_EventMixin, View):
    def post(self, request, *args, **kwargs):
        event = self.get_event()
        services.calendar_event_delete(event=event)
        messages.success(request, f"“{event.name}” removed.")
        return redirect("calendar-events", self.plan.slug)


class CoverageView(PlanViewMixin, TemplateView):
    """Per location and weekday: who is open, out-of-hours cover, and what is uncovered."""

    template_name = "operations/calendars/coverage.html"

    def week_start(self) -> date:
        """The Monday of ``?week=`` (any ISO date in it); this week when absent, invalid or absurd."""
        try:
            day = date.fromisoformat(self.request.GET.get("week", ""))
        except ValueError:
            day = None
        if day is None or not 1970 <= day.year <= 2200:
            day = timezone.now().date()
        return day - timedelta(days=day.weekday())

    def get_context_data(self, **kwargs):
        week_start = self.week_start()
        cover = selectors.coverage(user=self.request.user, plan=self.plan, week_start=week_start)
        return super().get_context_data(
            coverage=cover,
            previous_week=week_start - timedelta(days=7),
            next_week=week_start + timedelta(days=7),
            **kwargs,
        )
