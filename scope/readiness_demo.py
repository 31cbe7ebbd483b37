"""Demo data for the demo plan."""


def seed_readiness_demo(*, plan) -> None:
    """Readiness at about 60 %, a drill, a hypercare draft (filled in by the readiness work)."""
