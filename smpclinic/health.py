"""Health checks for the process manager, the load balancer and the container runtime.

- `/healthz` (liveness): the process answers HTTP. It reads nothing, so a database outage
  does not get every web process restarted, which would not help.
- `/readyz` (readiness): this process can serve pages: the database answers and has every
  migration applied, the cache keeps a value, and the photo storage is reachable. A
  process that is not ready answers 503 and the load balancer sends its traffic elsewhere.

Both are public and say only "ok" or which check failed, never why (a host name or an
error message is for the log, not for whoever asks). `HealthCheckMiddleware`, first in
MIDDLEWARE, answers them before anything else runs: no session, no sign-in, no Clinic
settings read, no host check or HTTPS redirect (a probe asks by address, over plain
HTTP), and no line in the request log every few seconds.
"""

from __future__ import annotations

import logging
import os
import uuid

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# Once every migration was seen applied it stays so while this code runs: the migration
# graph (about a hundred files) is then not read again on every probe.
_migrated = False


def _database() -> bool:
    global _migrated
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if not _migrated:
        executor = MigrationExecutor(connection)
        _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrated


def _cache() -> bool:
    key, value = "smpclinic:readyz", uuid.uuid4().hex
    cache.set(key, value, 30)
    return cache.get(key) == value


def _photo_storage() -> bool:
    if isinstance(default_storage, FileSystemStorage):
        location = default_storage.location
        os.makedirs(location, exist_ok=True)
        return os.access(location, os.W_OK)
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        # S3: one HEAD of the bucket. A missing bucket, refused credentials or an
        # unreachable service raise (a HEAD of a missing object would not notice the first).
        default_storage.connection.meta.client.head_bucket(Bucket=bucket)
        return True
    default_storage.exists("readyz-probe")  # another storage: it answers, whatever the answer
    return True


CHECKS = {"database": _database, "cache": _cache, "photo_storage": _photo_storage}


@login_not_required
@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process is up. No database, no cache, nothing else."""
    return JsonResponse({"status": "ok"})


@login_not_required
@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when every check passes, else 503 naming the checks that failed."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = "ok" if check() else "failed"
        except Exception:  # any failure means "not ready"; the log keeps the reason
            logger.exception("Readiness check %s failed", name)
            results[name] = "failed"
    ready = all(result == "ok" for result in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)


PATHS = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    """Answer the two health paths before any other middleware runs (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        view = PATHS.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)
