"""The breach calculator and the gap list (mounted under /plans/<plan_slug>/ by operations/urls.py)."""

from django.urls import path

from operations import views_breach

urlpatterns = [
    path("sla/breach/", views_breach.BreachCalculatorView.as_view(), name="breach-calculator"),
    path("gaps/", views_breach.PlanGapsView.as_view(), name="plan-gaps"),
]
