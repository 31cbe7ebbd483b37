"""Pages of readiness, transition, hypercare and the risk log."""

urlpatterns = []
