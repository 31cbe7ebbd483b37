"""Demo data for the demo plan."""


def seed_access_demo(*, plan) -> None:
    """Partner and ISV access policies and requests (filled in by the access work)."""
