from django.apps import AppConfig


class ScopeConfig(AppConfig):
    name = "scope"
    verbose_name = "Support scope"

    def ready(self) -> None:
        from scope import models
        from supportplan.audit import register

        register(models.Aspect)
        register(models.ScopeItem, exclude_fields=("updated_at",), m2m_fields=("roles", "people", "parties"))
        register(models.CharterVersion)
        register(models.ReadinessItem, exclude_fields=("updated_at",))
        register(models.GateOverride)
        register(models.TransitionActivity, m2m_fields=("people",))
        register(models.ReadinessTarget)
        register(models.HypercarePlan, exclude_fields=("updated_at",))
        register(models.RiskEntry, exclude_fields=("updated_at",))
