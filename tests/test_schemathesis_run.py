"""The schemathesis run prints what the server logged as errors, with their tracebacks, and nothing else."""

from bench.schemathesis_run import logged_errors

SERVER_LOG = """\
[2026-12-04 14:18:40 +0000] [21527] [INFO] Booting worker with pid: 21528
2026-12-04 14:18:43,001 WARNING django.request Bad Request: /api/v1/roles/16/
2026-12-04 14:18:44,431 ERROR django.request Internal Server Error: /api/v1/raci-assignments/18/
Traceback (most recent call last):
  File "/work/main/models_catalog/raci.py", line 132, in raci_set_cell
psycopg2.errors.DeadlockDetected: deadlock detected
2026-12-04 14:18:45,002 WARNING django.request Not Found: /api/v1/webhook-endpoints/5161201/
[2026-12-04 14:18:46 +0000] [21527] [ERROR] Worker (pid:21528) was sent SIGKILL!
2026-12-04 14:18:47,100 WARNING django.request Bad Request: /api/v1/scope-items/1/
"""


def test_only_error_records_are_printed_with_their_tracebacks(tmp_path):
    log = tmp_path / "server.log"
    log.write_text(SERVER_LOG)
    assert logged_errors(log) == [
        "2026-12-04 14:18:44,431 ERROR django.request Internal Server Error: /api/v1/raci-assignments/18/",
        "Traceback (most recent call last):",
        '  File "/work/main/models_catalog/raci.py", line 132, in raci_set_cell',
        "psycopg2.errors.DeadlockDetected: deadlock detected",
        "[2026-12-04 14:18:46 +0000] [21527] [ERROR] Worker (pid:21528) was sent SIGKILL!",
    ]


def test_a_clean_log_or_none_prints_nothing(tmp_path):
    log = tmp_path / "server.log"
    assert logged_errors(log) == []
    log.write_text(SERVER_LOG.split("2026-12-04 14:18:44")[0])
    assert logged_errors(log) == []
