from django.apps import AppConfig


class SupportPlanConfig(AppConfig):
    name = "supportplan"
    verbose_name = "Support plans"

    def ready(self) -> None:
        from supportplan import audit

        audit.register_models()
