"""Plan-scoped pages of the support scope (mounted under /plans/<plan_slug>/)."""

import contextlib

from django.urls import include, path

urlpatterns = []
# TEMPORARY while the parts are being written: include each part that exists.
for module in ("scope.urls_matrix", "scope.urls_charter", "scope.urls_transfer"):
    with contextlib.suppress(ImportError):
        urlpatterns.append(path("", include(module)))
