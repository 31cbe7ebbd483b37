"""Bench-only settings: the project's settings plus a URLconf with a bare DRF list of the same table."""

from supportplan.settings import *  # noqa: F403

ROOT_URLCONF = "bench.ingestion_urls"
