# SMP Clinic's image: the web processes (the default command), the task worker and the
# reminder and backup commands all run from it (compose.yaml). Static files are collected
# at build time; migrations run once per release (compose's `migrate` service).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint's libraries and a font (the plan PDF); pg_dump for `manage.py backup`
# (Debian 12's client is PostgreSQL 15, as compose's server).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic signs nothing; the key exists only for this one command.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input --verbosity 0

RUN useradd --system --uid 10001 --home-dir /app smpclinic \
 && mkdir -p /var/lib/smpclinic/media /var/lib/smpclinic/backups \
 && chown -R smpclinic:smpclinic /var/lib/smpclinic
USER smpclinic

ENV GUNICORN_BIND=0.0.0.0:8000 \
    DJANGO_MEDIA_ROOT=/var/lib/smpclinic/media \
    DJANGO_BACKUP_DIR=/var/lib/smpclinic/backups
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
