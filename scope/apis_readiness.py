"""REST API of readiness, transition, hypercare and the risk log."""


def register(router) -> None:
    """Registers this module's viewsets on the v1 router."""
