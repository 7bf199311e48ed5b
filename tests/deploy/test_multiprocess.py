"""Several processes, one clinic: two gunicorn instances of the app on their own ports,
sharing PostgreSQL (or the SQLite file), Redis as the cache and S3 (moto's server) for
photos, started the way production starts them (`gunicorn -c gunicorn.conf.py`, DEBUG
off, collected static files), with two `db_worker` processes and `send_reminders`.

What must hold across processes: a session started on one continues on the other; a photo
uploaded through one is served by the other; a Clinic settings change made on one shows
on the other at once; each reminder e-mail goes out exactly once.

Marked `multiprocess`: `make test` leaves it out, `make test-multiprocess` (CI, after the
PostgreSQL suite) runs it. Its rows are committed (transaction=True): the servers are
other processes.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import redis
import requests
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.sessions.models import Session
from django.db import connection
from django_otp.oath import totp
from django_tasks_db.models import DBTaskResult
from moto.server import ThreadedMotoServer

from cases import reminders
from cases.choices import CaseStatus, SessionStatus
from cases.models import Photo, SentReminder
from smpclinic.models import ClinicSettings
from tests import factories
from tests.cases.test_photo_processing import phone_jpeg
from tests.deploy.smtp_sink import SmtpSink
from tests.formdata import form_data
from tests.signin import verified_device

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent
REDIS_DB = 15  # this test's own Redis database, flushed before and after
BUCKET = "clinic-photos-multiprocess"
PASSWORD = "a long enough test password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = f"{db['USER']}:{db['PASSWORD']}@" if db.get("PASSWORD") else f"{db['USER']}@"
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Process:
    """A child process whose output goes to a file the test reads afterwards."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], logs: Path):
        self.log = logs / f"{name}.log"
        self.popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """Redis, moto's S3 and a mail sink; the collected static files; two gunicorn
    instances on the test database. Yields what the tests need to reach them."""
    logs = tmp_path_factory.mktemp("logs")
    cache = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    cache.flushdb()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    s3_url = f"http://{host}:{port}"
    s3 = boto3.client(
        "s3", endpoint_url=s3_url, aws_access_key_id="k", aws_secret_access_key="s", region_name="eu-west-2"
    )
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    with django_db_blocker.unblock():
        db_url = database_url()
    static_root = tmp_path_factory.mktemp("static")
    env = {
        **os.environ,
        # Production's settings module and switches, not the test settings.
        "DJANGO_SETTINGS_MODULE": "smpclinic.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "multiprocess-test-secret-key-shared-by-every-process",
        "DATABASE_URL": db_url,
        "DJANGO_CACHE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "DJANGO_PHOTO_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_url,
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_S3_REGION_NAME": "eu-west-2",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "0",  # plain HTTP on 127.0.0.1
        "DJANGO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "DJANGO_LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "2",
    }
    collected = subprocess.run(
        [str(BIN / "python"), "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert collected.returncode == 0, collected.stderr
    servers = []
    for name in ("a", "b"):
        port = free_port()
        servers.append(
            (
                f"http://127.0.0.1:{port}",
                Process(
                    f"gunicorn-{name}",
                    [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"],
                    {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
                    logs,
                ),
            )
        )
    try:
        for url, process in servers:
            wait_until_ready(url, process)
        with SmtpSink() as sink:
            yield {
                "a": servers[0][0],
                "b": servers[1][0],
                "env": {**env, "DJANGO_EMAIL_HOST": "127.0.0.1", "DJANGO_EMAIL_PORT": str(sink.port)},
                "s3": s3,
                "sink": sink,
                "logs": logs,
                "servers": [process for _url, process in servers],
            }
    finally:
        for _url, process in servers:
            process.stop()
        moto.stop()
        cache.flushdb()


def wait_until_ready(url: str, process: Process, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.popen.poll() is None, process.output()
        try:
            # The first answer reads the migration graph: slower than the next ones.
            if requests.get(f"{url}/readyz", timeout=30).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} never became ready:\n{process.output()}")


@pytest.fixture(autouse=True)
def _fresh_shared_cache(stack):
    """Each test starts with an empty shared cache: the previous test's rows are gone."""
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()


def sign_in(http: requests.Session, server: str, user) -> None:
    """Sign in through the real pages: password, then the authenticator's code."""
    page = http.get(f"{server}/login/")
    answer = http.post(
        f"{server}/login/",
        data=form_data(page.text, username=user.username, password=PASSWORD),
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    page = http.get(f"{server}/login/code/")
    assert page.status_code == 200, page.text
    device = verified_device(user)
    answer = http.post(
        f"{server}/login/code/", data=form_data(page.text, code=f"{totp(device.bin_key):06d}"), allow_redirects=False
    )
    assert answer.status_code == 302, answer.text


def manager():
    """A manager whose password the servers can check: they use production's hashers, not
    the test settings' fast one."""
    user = factories.ManagerUserFactory()
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt(), iterations=1000)
    user.save()
    verified_device(user)  # an authenticator app, set up: sign-in asks for its code
    return user


def posted(http: requests.Session, url: str, **changes) -> requests.Response:
    page = http.get(url)
    assert page.status_code == 200, page.text
    return http.post(url, data=form_data(page.text, **changes), allow_redirects=False)


def test_a_session_started_on_one_process_continues_on_the_other(stack):
    person = manager()
    http = requests.Session()

    sign_in(http, stack["a"], person)

    page = http.get(f"{stack['b']}/clients/", allow_redirects=False)
    assert page.status_code == 200
    assert Session.objects.count() == 1  # in the database, which every process reads
    # Signed out through the other instance: the session ends for both.
    logout = http.post(f"{stack['b']}/logout/", data=form_data(page.text, form_index=0), allow_redirects=False)
    assert logout.status_code == 302
    assert http.get(f"{stack['a']}/clients/", allow_redirects=False).status_code == 302
    assert Session.objects.count() == 0


def test_a_photo_uploaded_through_one_is_served_by_the_other(stack):
    person = manager()
    case = factories.CaseFactory()
    http = requests.Session()
    sign_in(http, stack["a"], person)
    upload_url = f"{stack['a']}/cases/{case.public_id}/photos/upload/"
    page = http.get(upload_url)
    data = form_data(page.text, kind="before", angle="top", taken_on=reminders.clinic_today().isoformat())

    answer = http.post(
        upload_url,
        data=data,
        files=[("images", ("scalp.jpg", phone_jpeg(), "image/jpeg"))],
        allow_redirects=False,
    )

    assert answer.status_code == 302, answer.text
    photo = Photo.objects.get(case=case)
    keys = [item["Key"] for item in stack["s3"].list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert photo.image.name in keys
    served = http.get(f"{stack['b']}/photos/{photo.public_id}/", allow_redirects=False)
    assert served.status_code == 302
    assert served.headers["Location"].startswith(stack["env"]["AWS_S3_ENDPOINT_URL"])
    original = requests.get(served.headers["Location"])
    assert hashlib.sha256(original.content).hexdigest() == photo.file_sha256

    # The screen copy is made by a worker process, then served by the other web process.
    drain_with_workers(stack)
    photo.refresh_from_db()
    assert photo.screen.name and photo.thumbnail.name
    screen = http.get(f"{stack['b']}/photos/{photo.public_id}/screen/")
    assert screen.status_code == 200 and screen.content.startswith(b"\xff\xd8")


def test_a_clinic_settings_change_on_one_shows_on_the_other_at_once(stack):
    person = manager()
    http = requests.Session()
    sign_in(http, stack["a"], person)
    # Both instances (and each of their workers) have read and cached the settings.
    for _ in range(4):
        assert ClinicSettings.load().name in http.get(f"{stack['b']}/clients/").text

    saved = posted(http, f"{stack['a']}/settings/", name="Leeds Scalp Repair")
    assert saved.status_code == 302, saved.text

    for _ in range(4):  # whichever worker of the other instance answers
        assert "Leeds Scalp Repair" in http.get(f"{stack['b']}/clients/").text


def reminder_world() -> list:
    """Four opted-in clients with a session in two days, and a staff member with an
    overdue follow-up: four client reminders and a digest are due today."""
    clinic = ClinicSettings.load()
    today = reminders.clinic_today(clinic)
    session_day = reminders.day_start(today + datetime.timedelta(days=2), clinic)
    for i in range(4):
        case = factories.CaseFactory(
            client=factories.ClientFactory(reminders_opt_in=True), status=CaseStatus.IN_TREATMENT
        )
        factories.LaserSessionFactory(
            case=case, status=SessionStatus.SCHEDULED, scheduled_at=session_day + datetime.timedelta(hours=9 + i)
        )
    factories.FollowUpFactory(due_on=today - datetime.timedelta(days=1), assignee=factories.StaffUserFactory())
    return reminders.due_reminders(today, clinic)


def manage(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=stack["env"], capture_output=True, text=True
    )


def drain_with_workers(stack, seconds: float = 60) -> list[Process]:
    """Two `db_worker` processes, as production runs them, until the queue is empty."""
    workers = [
        Process(
            f"db_worker-{n}-{time.monotonic_ns()}",
            [str(BIN / "python"), "manage.py", "db_worker", "--interval", "0.2"],
            stack["env"],
            stack["logs"],
        )
        for n in (1, 2)
    ]
    try:
        deadline = time.monotonic() + seconds
        while DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists():
            assert time.monotonic() < deadline, [w.output() for w in workers]
            for worker in workers:
                assert worker.popen.poll() is None, worker.output()
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.stop()
    return workers


def test_each_reminder_goes_once_with_two_workers(stack):
    due = reminder_world()
    assert len(due) == 5

    # Cron's run, and a second, overlapping one: every reminder is queued twice.
    for _ in range(2):
        queued = manage(stack, "send_reminders")
        assert queued.returncode == 0, queued.stderr
        assert "5 enqueued" in queued.stdout
    drain_with_workers(stack)

    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()
    sent = sorted(recipients for recipients, _message in stack["sink"].messages)
    assert sent == sorted((item.recipient,) for item in due)
    assert SentReminder.objects.filter(sent_at__isnull=False).count() == 5


def test_every_process_logs_json_lines_with_request_ids(stack):
    """Both instances wrote their request lines as JSON, none with a query string."""
    http = requests.Session()
    http.get(f"{stack['a']}/login/?next=/clients/%3Ftoken%3Dsecret")
    http.get(f"{stack['b']}/login/?next=/clients/%3Ftoken%3Dsecret")
    time.sleep(0.5)
    for process in stack["servers"]:
        lines = [json.loads(line) for line in process.output().splitlines() if line.startswith("{")]
        requests_logged = [line for line in lines if line["logger"] == "smpclinic.requests"]
        assert requests_logged, process.output()
        assert all(re.fullmatch(r"[0-9a-f]{32}", line["request_id"]) for line in requests_logged)
        assert "secret" not in process.output()
