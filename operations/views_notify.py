"""Pages of notifications, under ``/plans/<plan_slug>/``: my inbox (all my notices, any plan), my
notification settings, the plan's delivery log (e-mails and webhooks with status, attempts and the
last error) and its webhook endpoints with a test-delivery button (leads)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from operations.forms_notify import NotificationSettingsForm, WebhookEndpointForm
from operations.models.notifications import DeliveryStatus
from operations.notify import selectors, services
from operations.notify import webhooks as webhook_services
from supportplan.views_base import PlanViewMixin, run_service


class InboxView(PlanViewMixin, TemplateView):
    template_name = "operations/notify/inbox.html"

    def get_context_data(self, **kwargs):
        only_plan = self.request.GET.get("scope") == "plan"
        unread = {"unread": True, "read": False}.get(self.request.GET.get("show", ""))
        notices = selectors.inbox(
            user=self.request.user, plan=self.plan if only_plan else None, unread=unread
        )
        page = Paginator(notices, 50).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            page=page, only_plan=only_plan, show=self.request.GET.get("show", ""), **kwargs
        )


class NoticeReadView(PlanViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        notice = get_object_or_404(selectors.inbox(user=request.user), pk=kwargs["notification_id"])
        services.notification_mark_read(notification=notice, user=request.user)
        if request.POST.get("next") == "link" and notice.link.startswith("/"):
            return redirect(notice.link)
        return redirect(reverse("notification-inbox", args=[self.plan.slug]))


class InboxReadAllView(PlanViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        marked = services.notifications_mark_all_read(user=request.user)
        messages.success(request, f"{marked} notice(s) marked read.")
        return redirect(reverse("notification-inbox", args=[self.plan.slug]))


class NotificationSettingsView(PlanViewMixin, FormView):
    template_name = "operations/notify/settings.html"
    form_class = NotificationSettingsForm

    def get_form_kwargs(self):
        current = services.notification_settings_for(user=self.request.user)
        return {**super().get_form_kwargs(), "instance": current}

    def form_valid(self, form):
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        saved = run_service(
            form, lambda: services.notification_settings_update(user=self.request.user, **fields)
        )
        if saved is None:
            return self.form_invalid(form)
        messages.success(self.request, "Your notification settings are saved.")
        return redirect(reverse("notification-settings-page", args=[self.plan.slug]))


class _DeliveryLogGate:
    """Placed after PlanViewMixin: runs once the plan is resolved. Leads and team members (and
    superusers) read the delivery log and the endpoints; partners and viewers get 403."""

    def dispatch(self, request, *args, **kwargs):
        if not selectors.delivery_log_plans(request.user).filter(pk=self.plan.pk).exists():
            raise PermissionDenied("The delivery log is for the plan's leads and team members.")
        return super().dispatch(request, *args, **kwargs)


class DeliveryLogView(PlanViewMixin, _DeliveryLogGate, TemplateView):
    template_name = "operations/notify/deliveries.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "")
        emails = selectors.plan_email_log(user=self.request.user, plan=self.plan)
        hooks = selectors.plan_webhook_deliveries(user=self.request.user, plan=self.plan)
        if status in DeliveryStatus.values:
            emails, hooks = emails.filter(email_status=status), hooks.filter(status=status)
        context.update(
            emails=Paginator(emails, 50).get_page(self.request.GET.get("page")),
            deliveries=hooks.order_by("-created_at", "-id")[:100],
            statuses=DeliveryStatus.choices,
            status=status,
        )
        return context


class WebhookEndpointsView(PlanViewMixin, _DeliveryLogGate, FormView):
    template_name = "operations/notify/webhooks.html"
    form_class = WebhookEndpointForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["endpoints"] = selectors.plan_endpoints(user=self.request.user, plan=self.plan)
        context["new_secret"] = self.request.session.pop("webhook_secret_once", None)
        return context

    def form_valid(self, form):
        if not self.can_configure:
            raise PermissionDenied("Only the plan's project and support leads can change this.")
        endpoint = run_service(
            form,
            lambda: webhook_services.webhook_endpoint_create(
                plan=self.plan, created_by=self.request.user, **form.cleaned_data
            ),
        )
        if endpoint is None:
            return self.form_invalid(form)
        self.request.session["webhook_secret_once"] = {"name": endpoint.name, "secret": endpoint.secret}
        messages.success(self.request, f"Endpoint “{endpoint.name}” added. Copy its secret now.")
        return redirect(reverse("webhook-endpoints-page", args=[self.plan.slug]))


class _EndpointAction(PlanViewMixin, View):
    plan_access = "configure"
    http_method_names = ["post"]

    def endpoint(self):
        return get_object_or_404(
            selectors.plan_endpoints(user=self.request.user, plan=self.plan), pk=self.kwargs["endpoint_id"]
        )

    def done(self):
        return redirect(reverse("webhook-endpoints-page", args=[self.plan.slug]))


class WebhookTestView(_EndpointAction):
    def post(self, request, *args, **kwargs):
        endpoint = self.endpoint()
        try:
            delivery = webhook_services.webhook_send_test(endpoint=endpoint, actor=request.user)
        except Exception as error:  # a ValidationError: the endpoint is disabled
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(
                request, f"Test delivery {delivery.webhook_id} queued; the delivery log shows its result."
            )
        return self.done()


class WebhookRotateView(_EndpointAction):
    def post(self, request, *args, **kwargs):
        endpoint = webhook_services.webhook_endpoint_rotate_secret(endpoint=self.endpoint())
        request.session["webhook_secret_once"] = {"name": endpoint.name, "secret": endpoint.secret}
        messages.success(request, f"New secret for “{endpoint.name}”. The old one no longer signs.")
        return self.done()


class WebhookToggleView(_EndpointAction):
    def post(self, request, *args, **kwargs):
        endpoint = self.endpoint()
        webhook_services.webhook_endpoint_update(endpoint=endpoint, active=not endpoint.active)
        return self.done()


class WebhookDeleteView(_EndpointAction):
    def post(self, request, *args, **kwargs):
        endpoint = self.endpoint()
        webhook_services.webhook_endpoint_delete(endpoint=endpoint)
        messages.success(request, f"Endpoint “{endpoint.name}” deleted.")
        return self.done()
