"""Browser UI for the support model: model choice and levels, parties and agreements, the team."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from models_catalog import selectors, services
from models_catalog.forms import (
    AgreementForm,
    ChooseModelForm,
    PartyForm,
    PersonForm,
    QuestionnaireForm,
    RoleForm,
    SupportLevelForm,
)
from models_catalog.models import Agreement, Party, Person, Role, SupportLevel
from models_catalog.recommendation import recommend
from supportplan.views_base import PlanViewMixin, run_service


class SupportModelView(PlanViewMixin, TemplateView):
    """The model, the questionnaire with its recommendation, and the five levels as a tier diagram."""

    plan_access = "staff"
    template_name = "models_catalog/model.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        model = selectors.support_model(user=self.request.user, plan=self.plan)
        answers = model.answers if model else {}
        context.setdefault("questionnaire", QuestionnaireForm(initial=answers))
        context.setdefault(
            "choose_form",
            ChooseModelForm(
                initial={
                    "kind": (model.kind if model and model.kind else recommend(answers).kind),
                    "centre_of_excellence": model.centre_of_excellence if model else False,
                    "rationale": model.rationale if model else "",
                }
            ),
        )
        context.update(
            model=model,
            recommendation=recommend(answers) if answers else None,
            levels=selectors.support_levels(user=self.request.user, plan=self.plan),
        )
        return context

    def post(self, request, *args, **kwargs):
        if not self.can_configure:
            raise PermissionDenied("Only the plan's project and support leads can change this.")
        if request.POST.get("form") == "questionnaire":
            form = QuestionnaireForm(request.POST)
            if form.is_valid() and run_service(
                form, lambda: services.support_model_save_answers(plan=self.plan, answers=form.answers())
            ):
                messages.success(request, "Answers saved: see the recommendation below.")
                return redirect("support-model", plan_slug=self.plan.slug)
            return self.render_to_response(self.get_context_data(questionnaire=form))
        form = ChooseModelForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(choose_form=form))
        conflicts = services.level_template_conflicts(plan=self.plan)
        decision = form.cleaned_data["overwrite_edited"]
        if conflicts and not decision:
            # Ask before touching levels a person edited.
            return self.render_to_response(self.get_context_data(choose_form=form, conflicts=conflicts))
        result = run_service(
            form,
            lambda: services.support_model_choose(
                plan=self.plan,
                kind=form.cleaned_data["kind"],
                centre_of_excellence=form.cleaned_data["centre_of_excellence"],
                rationale=form.cleaned_data["rationale"],
                overwrite_edited=decision == "replace",
            ),
        )
        if result is None:
            return self.render_to_response(self.get_context_data(choose_form=form))
        model, template = result
        kept = (
            f" Kept your edited level(s) {', '.join(map(str, template.kept_edited))}."
            if template.kept_edited
            else ""
        )
        messages.success(request, f"Support model set to {model.get_kind_display().lower()}.{kept}")
        return redirect("support-model", plan_slug=self.plan.slug)


class SupportLevelFormView(PlanViewMixin, FormView):
    plan_access = "configure"
    template_name = "models_catalog/level_form.html"
    form_class = SupportLevelForm

    def get_level(self) -> SupportLevel:
        if not hasattr(self, "_level"):
            self._level = get_object_or_404(
                SupportLevel.objects.for_user(self.request.user), plan=self.plan, number=self.kwargs["number"]
            )
        return self._level

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.limit_to_plan(self.plan)
        return form

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_level()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(level=self.get_level(), **kwargs)

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        result = run_service(form, lambda: services.support_level_update(level=self.get_level(), **data))
        if result is None:
            return self.form_invalid(form)
        messages.success(
            self.request, f"Level {result.number} saved. Choosing a model again will ask before replacing it."
        )
        return redirect("support-model", plan_slug=self.plan.slug)


class PartyListView(PlanViewMixin, TemplateView):
    template_name = "models_catalog/parties.html"

    def get_context_data(self, **kwargs):
        parties = selectors.parties_with_agreements(user=self.request.user, plan=self.plan)
        return super().get_context_data(parties=parties, **kwargs)


class _PlanObjectFormView(PlanViewMixin, FormView):
    """Create or edit one object of the plan (``<object_kwarg>`` in the URL means edit)."""

    plan_access = "configure"
    template_name = "models_catalog/form.html"
    model = None
    object_kwarg = ""
    noun = ""
    back_url_name = ""

    def get_object(self):
        if not hasattr(self, "_object"):
            self._object = None
            if self.object_kwarg in self.kwargs:
                self._object = get_object_or_404(
                    self.model.objects.for_user(self.request.user),
                    plan=self.plan,
                    pk=self.kwargs[self.object_kwarg],
                )
        return self._object

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if hasattr(form, "limit_to_plan"):
            form.limit_to_plan(self.plan)
        return form

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_object()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            object=self.get_object(), noun=self.noun, back_url=self.get_success_url(), **kwargs
        )

    def get_success_url(self):
        return reverse(self.back_url_name, kwargs={"plan_slug": self.plan.slug})

    def form_valid(self, form):
        result = run_service(form, lambda: self.save(form, self.get_object()))
        if result is None:
            return self.form_invalid(form)
        messages.success(self.request, f"“{result}” saved.")
        return redirect(self.get_success_url())

    def save(self, form, instance):
        raise NotImplementedError


class PartyFormView(_PlanObjectFormView):
    noun = "party"
    back_url_name = "parties"
    form_class = PartyForm
    model = Party
    object_kwarg = "party_id"

    def save(self, form, party):
        if party is None:
            return services.party_create(plan=self.plan, **form.cleaned_data)
        return services.party_update(party=party, **form.cleaned_data)


class PartyDeleteView(PlanViewMixin, View):
    plan_access = "configure"

    def post(self, request, *args, **kwargs):
        party = get_object_or_404(Party.objects.for_user(request.user), plan=self.plan, pk=kwargs["party_id"])
        form = PartyForm()
        if run_service(form, lambda: services.party_delete(party=party)) is None and form.errors:
            for error in form.non_field_errors():
                messages.error(request, error)
        else:
            messages.success(request, f"“{party}” removed.")
        return redirect("parties", plan_slug=self.plan.slug)


class AgreementFormView(_PlanObjectFormView):
    noun = "agreement"
    back_url_name = "parties"
    form_class = AgreementForm
    model = Agreement
    object_kwarg = "agreement_id"

    def get_initial(self):
        party = self.request.GET.get("party")
        return {"party": party} if party and party.isdigit() else {}

    def save(self, form, agreement):
        if agreement is None:
            return services.agreement_create(
                plan=self.plan, commitments=form.commitments(), **form.model_fields()
            )
        return services.agreement_update(
            agreement=agreement, commitments=form.commitments(), **form.model_fields()
        )


class TeamView(PlanViewMixin, TemplateView):
    plan_access = "staff"
    template_name = "models_catalog/team.html"

    def get_context_data(self, **kwargs):
        people = list(selectors.team(user=self.request.user, plan=self.plan))
        return super().get_context_data(
            people=people,
            roles=selectors.roles_with_counts(user=self.request.user, plan=self.plan),
            informal_super_users=selectors.informal_super_users(people=people),
            **kwargs,
        )


class PersonFormView(_PlanObjectFormView):
    noun = "person"
    back_url_name = "team"
    form_class = PersonForm
    model = Person
    object_kwarg = "person_id"

    def save(self, form, person):
        data = dict(form.cleaned_data)
        if person is None:
            return services.person_create(plan=self.plan, **data)
        return services.person_update(person=person, **data)


class RoleFormView(_PlanObjectFormView):
    noun = "role"
    back_url_name = "team"
    form_class = RoleForm
    model = Role
    object_kwarg = "role_id"

    def save(self, form, role):
        if role is None:
            return services.role_create(plan=self.plan, **form.cleaned_data)
        return services.role_update(role=role, **form.cleaned_data)
