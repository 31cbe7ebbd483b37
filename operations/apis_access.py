"""REST API of this part of operations."""


def register(router) -> None:
    """Registers this module's viewsets on the v1 router."""
