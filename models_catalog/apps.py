from django.apps import AppConfig


class ModelsCatalogConfig(AppConfig):
    name = "models_catalog"
    verbose_name = "Support model and team"

    def ready(self) -> None:
        from models_catalog import models
        from supportplan.audit import register

        register(models.SupportModel, exclude_fields=("updated_at",))
        register(models.SupportLevel, m2m_fields=("parties", "roles"))
        register(models.Party)
        register(models.Agreement)
        register(models.AgreementCommitment)
        register(models.Role)
        register(models.Person, m2m_fields=("roles", "levels"))
        register(models.Responsibility)
        register(models.RaciAssignment)
        register(models.StaffingProfile)
