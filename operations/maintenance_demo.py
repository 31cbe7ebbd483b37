"""Demo maintenance calendar for the demo plan."""


def seed_maintenance_demo(*, plan) -> None:
    """A year of realistic tasks from the catalogue (filled in by the maintenance work)."""
