from django.apps import AppConfig


class ScopeConfig(AppConfig):
    name = "scope"
    verbose_name = "Support scope"
