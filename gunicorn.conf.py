"""gunicorn's settings for SMP Clinic: `gunicorn -c gunicorn.conf.py` (systemd, the
container, `make serve` and the multi-process test all start it this way).

Each value can be changed from the environment, so the unit file or compose.yaml holds
the machine's facts and this file the reasons.
"""

import multiprocessing
import os

wsgi_app = "smpclinic.wsgi:application"

# Behind nginx on the same machine by default; GUNICORN_BIND=0.0.0.0:8000 in a container.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Synchronous workers, (2 × CPUs) + 1: the pages spend their time in the database and in
# image decoding, not waiting on slow clients (nginx buffers those). Each worker keeps one
# PostgreSQL connection (DJANGO_CONN_MAX_AGE), so workers × web machines + db_workers must
# stay under the server's max_connections.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)

# A photo upload decodes and re-encodes each original inside the request; the batch cap
# (DJANGO_PHOTO_MAX_BATCH_PIXELS) keeps it well inside 30 s. A worker stuck longer is
# killed and replaced; its request answers 502 through nginx.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5

# A worker is replaced after this many requests (spread by the jitter so they do not all
# restart at once): memory that image decoding fragmented is given back.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = 100

# Only the proxy may say the request came over HTTPS or from which address: gunicorn
# trusts X-Forwarded-Proto from these addresses alone (Django reads it through
# DJANGO_BEHIND_TLS_PROXY, the client address through DJANGO_TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# The app writes one line per request itself (smpclinic/requestlog.py: with the user id and
# the request id, never the query string), so gunicorn's own access log is off unless
# GUNICORN_ACCESS_LOG names a file ("-" for standard output); its format then also leaves
# out the query string (%(U)s is the path alone), where reset and feed tokens travel.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%({x-request-id}o)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# gunicorn 27 opens a control socket under the home directory, which a service account
# or a container often cannot write.
control_socket_disable = True

# Worker heartbeats in memory, not on a container's overlay disk.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
