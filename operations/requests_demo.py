"""Demo data for the demo plan."""


def seed_requests_demo(*, plan) -> None:
    """A few hundred support requests over the last months (filled in by the helpdesk work)."""
