"""Benchmark: 10,000 due reminders delivered end to end by a real Celery worker against Redis
(e-mail into Django's file backend + webhooks to a local receiver), against a bare no-op task on the
same broker, then the same with the worker SIGKILLed midway and restarted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hb_bench REDIS_BENCH_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/bench_delivery.py [--reminders 10000] [--workers prefork:2,solo:1]

It migrates the database it is given, FLUSHES the Redis database it is given, creates a scratch plan
(deleted at the end) and starts its own workers. Each reminder is one e-mail and one webhook delivery
(one endpoint subscribed), so 10,000 reminders are 20,000 delivery tasks.

For each worker configuration (``--workers``; by default the product's own worker, prefork with 2
processes as bin/run and docker-compose start it, then a single solo process):

1. Baseline: 2 x N ``supportplan.tasks.ping`` tasks (no database, no I/O) through the same broker and the
   same kind of worker; tasks per second from the first publish to an empty queue.
2. Delivery: N occurrences due now; the beat's ``sweep_reminders`` task is sent to the worker, which
   writes the outbox and then delivers every e-mail and webhook; tasks per second from the sweep to
   the last delivery. Ratio = delivery tasks/s / no-op tasks/s (target >= 0.5).
Then, once:

3. Crash: the same with a solo worker SIGKILLed when about half is delivered and started again; kombu's
   ``visibility_timeout`` is 10 s for the run so the unacknowledged message returns quickly. Counts
   e-mails (by Message-ID) and webhook requests (by webhook-id): lost must be 0; duplicates at most
   one per killed process, and each duplicate carries the same id as its original.
"""

from __future__ import annotations

import argparse
import collections
import http.server
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportplan.settings")
os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from models_catalog.models import Person  # noqa: E402
from operations.models import MaintenanceTask, Notification, TaskOccurrence, WebhookDelivery  # noqa: E402
from operations.models.notifications import DeliveryStatus  # noqa: E402
from operations.notify.webhooks import webhook_endpoint_create  # noqa: E402
from supportplan.models import SupportPlan  # noqa: E402

VISIBILITY_TIMEOUT = 10
WORKER_LOG = Path(tempfile.gettempdir()) / "bench_delivery_workers.log"
#: Beat sends sweep_outbox every minute; the bench sends it this often (time compressed).
SWEEP_EVERY = 10.0
WORKER = """
import sys
from supportplan.celery import app
app.conf.broker_transport_options = {{"visibility_timeout": {visibility}}}
app.conf.task_ignore_result = True
app.worker_main(["worker", "--pool={pool}", "--concurrency={concurrency}", "--without-mingle",
                 "--without-gossip", "--loglevel=WARNING", "--hostname", "{hostname}"])
"""


class Receiver:
    """The webhook receiver: counts webhook-id headers, answers 204."""

    def __init__(self):
        self.ids: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.ids[self.headers["webhook-id"]] += 1
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


class Worker:
    def __init__(self, *, broker: str, var_dir: Path, pool: str, concurrency: int, reclaim_after: int = 600):
        self.hostname = f"bench-{uuid.uuid4().hex[:6]}@localhost"
        code = WORKER.format(
            visibility=VISIBILITY_TIMEOUT, pool=pool, concurrency=concurrency, hostname=self.hostname
        )
        env = {
            **os.environ,
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": broker,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "SUPPORTPLAN_VAR_DIR": str(var_dir),
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "LOG_LEVEL": "WARNING",
            # As in production: DEBUG on would keep a log of every query in the worker's memory.
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
            "NOTIFY_RECLAIM_AFTER_SECONDS": str(reclaim_after),
        }
        log = WORKER_LOG.open("a")
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and code)
            [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, app) -> None:
        deadline = time.monotonic() + 90
        while not app.control.ping(destination=[self.hostname], timeout=1.0):
            if time.monotonic() > deadline or self.process.poll() is not None:
                sys.exit("The worker did not start.")

    def cpu_seconds(self) -> float:
        """User + system CPU so far of the worker and its pool's child processes (Linux /proc)."""
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        tree, ticks = {self.process.pid}, 0
        for pid, (parent, used) in sorted(stats.items()):
            if pid in tree or parent in tree:
                tree.add(pid)
                ticks += used
        return ticks / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def queue_empty(client: redis.Redis) -> bool:
    return client.llen("celery") == 0 and client.hlen("unacked") == 0


def baseline(app, client: redis.Redis, tasks: int, worker: Worker) -> tuple[float, float]:
    """(tasks per second, worker CPU milliseconds per task)."""
    cpu = worker.cpu_seconds()
    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for number in range(tasks):
            app.send_task("supportplan.tasks.ping", args=[str(number)], producer=producer, ignore_result=True)
    while not queue_empty(client):
        time.sleep(0.02)
    return tasks / (time.perf_counter() - started), (worker.cpu_seconds() - cpu) * 1000 / tasks


def build(plan: SupportPlan, reminders: int, receiver: Receiver) -> None:
    """``reminders`` open occurrences just due (on-due stage), owners with e-mail, 100 tasks."""
    webhook_endpoint_create(plan=plan, name="Bench receiver", url=receiver.url)
    now = timezone.now()
    people = Person.objects.bulk_create(
        [Person(plan=plan, name=f"Owner {n}", email=f"owner{n}@bench.test") for n in range(100)]
    )
    tasks = MaintenanceTask.objects.bulk_create(
        [
            MaintenanceTask(
                plan=plan,
                title=f"Bench task {n}",
                owner=people[n],
                rrule="FREQ=DAILY",
                starts_on=now.date(),
                local_time=now.time(),
                timezone="UTC",
                reminder_lead_minutes=0,
                grace_minutes=1440,
            )
            for n in range(100)
        ]
    )
    # Due within the last 17 minutes: on time (a catch-up after downtime, > 30 min late, would be collapsed
    # into one e-mail per recipient, which is another feature).
    due = now - timedelta(minutes=1)
    TaskOccurrence.objects.bulk_create(
        [
            TaskOccurrence(
                plan=plan,
                task=tasks[n % 100],
                original_due_at=due - timedelta(milliseconds=100 * n),
                due_at=due - timedelta(milliseconds=100 * n),
                next_remind_at=due - timedelta(milliseconds=100 * n),
                next_remind_kind="on_due",
            )
            for n in range(reminders)
        ],
        batch_size=2000,
    )


def delivered(plan: SupportPlan) -> tuple[int, int]:
    emails = Notification.objects.filter(plan=plan, email_status=DeliveryStatus.SENT).count()
    hooks = WebhookDelivery.objects.filter(plan=plan, status=DeliveryStatus.SENT).count()
    return emails, hooks


def run_delivery(
    app, plan, reminders: int, worker_factory, kill_at: float | None
) -> tuple[float, int, float]:
    """Sends the sweep; returns (delivery tasks per second, workers killed, worker CPU ms per delivery)."""
    killed = 0
    worker = worker_factory()
    worker.wait_ready(app)
    cpu = worker.cpu_seconds()
    started = time.perf_counter()
    app.send_task("operations.tasks_notify.sweep_reminders", ignore_result=True)
    deadline = time.monotonic() + 3600
    next_sweep = time.monotonic() + SWEEP_EVERY
    try:
        while True:
            if time.monotonic() >= next_sweep:  # what beat does every minute
                app.send_task("operations.tasks_notify.sweep_outbox", ignore_result=True)
                next_sweep = time.monotonic() + SWEEP_EVERY
            emails, hooks = delivered(plan)
            if emails >= reminders and hooks >= reminders:
                break
            if kill_at is not None and not killed and emails + hooks >= kill_at * 2 * reminders:
                worker.kill()
                killed += 1
                say(f"  SIGKILL at {emails} e-mails + {hooks} webhooks delivered; restarting the worker")
                worker = worker_factory()
                worker.wait_ready(app)
            if time.monotonic() > deadline:
                sys.exit(f"Not delivered within an hour: {emails} e-mails, {hooks} webhooks.")
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        cpu_ms = (worker.cpu_seconds() - cpu) * 1000 / (2 * reminders)
    finally:
        worker.stop()
    return 2 * reminders / elapsed, killed, cpu_ms


MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^>]+>)", re.MULTILINE)


def count_emails(folder: Path) -> collections.Counter[str]:
    found: collections.Counter[str] = collections.Counter()
    for path in folder.iterdir():
        found.update(MESSAGE_ID.findall(path.read_text()))
    return found


def audit(plan, mail_dir: Path, receiver: Receiver, killed: int) -> None:
    expected_ids = {n.message_id for n in Notification.objects.filter(plan=plan)}
    expected_hooks = set(WebhookDelivery.objects.filter(plan=plan).values_list("webhook_id", flat=True))
    emails = count_emails(mail_dir)
    lost_emails = expected_ids - set(emails)
    lost_hooks = expected_hooks - set(receiver.ids)
    email_dupes = {key: count for key, count in emails.items() if count > 1}
    hook_dupes = {key: count for key, count in receiver.ids.items() if count > 1}
    say(
        f"  e-mails: {len(expected_ids)} expected, {sum(emails.values())} written, {len(lost_emails)} lost, "
        f"{sum(c - 1 for c in email_dupes.values())} duplicates {sorted(email_dupes)}"
    )
    say(
        f"  webhooks: {len(expected_hooks)} expected, {sum(receiver.ids.values())} received, "
        f"{len(lost_hooks)} lost, {sum(c - 1 for c in hook_dupes.values())} duplicates {sorted(hook_dupes)}"
    )
    say("  every duplicate carries the same Message-ID / webhook-id as its original (counted by that id)")
    allowed = killed
    ok = (
        not lost_emails
        and not lost_hooks
        and sum(c - 1 for c in email_dupes.values()) + sum(c - 1 for c in hook_dupes.values()) <= allowed
    )
    verdict = "OK" if ok else "MISSED"
    say(f"  verdict: {verdict} (0 lost; at most {allowed} duplicate(s) for {killed} killed process(es))")


def say(text: str) -> None:
    print(text, flush=True)


def scratch_plan(name: str, reminders: int, receiver: Receiver) -> SupportPlan:
    """A new plan with ``reminders`` due occurrences; the receiver's count starts again."""
    receiver.ids.clear()
    plan = SupportPlan.objects.create(name=name, slug=f"bench-{uuid.uuid4().hex[:6]}")
    build(plan, reminders, receiver)
    return plan


def parse_configs(text: str) -> list[tuple[str, int]]:
    configs = []
    for item in text.split(","):
        pool, _, concurrency = item.partition(":")
        configs.append((pool, int(concurrency or 1)))
    return configs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument(
        "--workers",
        default="prefork:2,solo:1",
        help="worker configurations (pool:concurrency), each measured against the no-op task in the same "
        "configuration; the first is the verdict. prefork:2 is the worker bin/run and docker-compose start.",
    )
    parser.add_argument("--phases", default="noop,delivery,crash")
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    configs = parse_configs(args.workers)
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    broker = os.environ.get("REDIS_BENCH_URL", "redis://127.0.0.1:6379/6")
    call_command("migrate", verbosity=0)
    from supportplan.celery import app

    app.conf.broker_url = broker
    app.conf.result_backend = broker
    app.conf.broker_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT}
    client = redis.Redis.from_url(broker)
    client.flushdb()
    SupportPlan.objects.filter(
        slug__startswith="bench-", name__startswith="Delivery bench"
    ).delete()  # earlier runs
    receiver = Receiver()
    plans = []
    say(f"{args.reminders} reminders; broker {broker}; worker log {WORKER_LOG}")
    ratios = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            scratch = Path(scratch)

            def worker_factory(var_dir: Path, pool: str, concurrency: int, reclaim_after: int = 600):
                return lambda: Worker(
                    broker=broker,
                    var_dir=var_dir,
                    pool=pool,
                    concurrency=concurrency,
                    reclaim_after=reclaim_after,
                )

            for number, (pool, concurrency) in enumerate(configs, start=1):
                label = f"--pool={pool} --concurrency={concurrency}"
                noop_rate = None
                if "noop" in phases:
                    worker = worker_factory(scratch / f"noop{number}", pool, concurrency)()
                    worker.wait_ready(app)
                    noop_rate, noop_cpu = baseline(app, client, 2 * args.reminders, worker)
                    worker.stop()
                    say(
                        f"{number}a. [{label}] no-op task: {2 * args.reminders} tasks, "
                        f"{noop_rate:,.0f} tasks/s (worker CPU {noop_cpu:.2f} ms per task; "
                        f"load average {os.getloadavg()[0]:.1f})"
                    )
                if "delivery" in phases:
                    plan = scratch_plan("Delivery bench", args.reminders, receiver)
                    plans.append(plan)
                    rate, _, cpu_ms = run_delivery(
                        app,
                        plan,
                        args.reminders,
                        worker_factory(scratch / f"run{number}", pool, concurrency),
                        kill_at=None,
                    )
                    say(
                        f"{number}b. [{label}] delivery: {args.reminders} reminders = {2 * args.reminders} "
                        f"delivery tasks (+ the sweep writing the outbox), {rate:,.0f} tasks/s = "
                        f"{rate / 2:,.0f} reminders/s (worker CPU {cpu_ms:.2f} ms per delivery, sweep "
                        f"included; load average {os.getloadavg()[0]:.1f})"
                    )
                    if noop_rate:
                        ratio = rate / noop_rate
                        ratios.append((label, ratio))
                        verdict = "OK" if ratio >= 0.5 else "MISSED"
                        say(
                            f"    [{label}] ratio delivery tasks/s : no-op tasks/s = {ratio:.2f} "
                            f"(target >= 0.5): {verdict}"
                        )
                    audit(plan, scratch / f"run{number}" / "mail", receiver, killed=0)
                    plan.delete()
                    plans.remove(plan)

            if "crash" in phases:
                # One process (solo), so "at most one duplicate per killed process" is exact.
                client.flushdb()
                plan = scratch_plan("Delivery bench (crash)", args.reminders, receiver)
                plans.append(plan)
                rate, killed, _ = run_delivery(
                    app,
                    plan,
                    args.reminders,
                    worker_factory(scratch / "crash", "solo", 1, reclaim_after=60),
                    kill_at=0.5,
                )
                say(
                    f"{len(configs) + 1}. [--pool=solo] with SIGKILL midway and a restart: "
                    f"{rate:,.0f} tasks/s including the restart"
                )
                audit(plan, scratch / "crash" / "mail", receiver, killed=killed)
            if ratios:
                label, ratio = ratios[0]
                if configs[0] == ("prefork", 2):
                    label += ", the worker bin/run and docker-compose start"
                say(
                    f"Verdict ({label}): ratio {ratio:.2f}, target >= 0.5: "
                    f"{'MET' if ratio >= 0.5 else 'NOT MET'}"
                    + "".join(f"; {other}: {value:.2f}" for other, value in ratios[1:])
                )
    finally:
        for plan in plans:
            plan.delete()
        client.flushdb()


if __name__ == "__main__":
    main()
