"""Pages of this part of operations."""

urlpatterns = []
