# SMP Clinic: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PASSWORD ?= smpclinic-demo
export DEMO_PASSWORD

.PHONY: run serve backup test test-multiprocess e2e screenshots lint security audit format install install-dev clean bench bench-setup load photos

# Stamp files: requirements are installed again only when they change.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Local run: DEBUG on, SQLite in the checkout, demo clinic loaded once.
run: export DJANGO_DEBUG = 1
# Tasks (photo copies, reset e-mails) run at once here; a deployment runs a worker.
run: export DJANGO_TASKS_BACKEND ?= django_tasks.backends.immediate.ImmediateBackend
run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production-like, on this machine: DEBUG off, static files collected and served by
# whitenoise, gunicorn with gunicorn.conf.py, a task worker beside it; plain HTTP, so no
# secure cookies. The secret key is made once into .serve-secret-key (not committed).
serve: export DJANGO_DEBUG = 0
serve: export DJANGO_SECURE_COOKIES = 0
serve: export GUNICORN_BIND = $(HOST):$(PORT)
serve: install
	@test -s .serve-secret-key || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > .serve-secret-key
	export DJANGO_SECRET_KEY="$$(cat .serve-secret-key)" && \
	$(BIN)/python manage.py migrate --no-input && \
	$(BIN)/python manage.py seed_demo --if-empty && \
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0 && \
	{ $(BIN)/python manage.py db_worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn -c gunicorn.conf.py; }

# A backup of the database and the photo files into DJANGO_BACKUP_DIR (default backups/).
backup: install
	$(BIN)/python manage.py backup $(BACKUP_DIR)

# The whole suite but the browser tests (those need Chromium: `make e2e`), without the
# Playwright plugin (its `page` fixture is for the browser tests only); the 10 slowest
# tests are listed at the end.
# Python writes compiled files for the suite even where the environment says not to
# (PYTHONDONTWRITEBYTECODE): pytest then keeps each test module's rewritten assertions,
# which saves each worker about ten seconds of compiling at every later run.
# The two workers take tests from each other's queues once their own is empty
# (--dist worksteal), so they end within a test of each other.
test: export PYTHONDONTWRITEBYTECODE =
test: install-dev
	$(BIN)/python -m pytest -n 2 --dist worksteal -p no:playwright --ignore=tests/e2e -m "not multiprocess" --durations=10 $(PYTEST_ARGS)

# Several processes on one database (tests/deploy/test_multiprocess.py): two gunicorn
# instances, two db_workers and send_reminders, sharing Redis (127.0.0.1:6379, database 15)
# and S3 (moto). Run with DATABASE_URL pointing at PostgreSQL, as CI does.
test-multiprocess: install-dev
	$(BIN)/python -m pytest -n 0 -p no:playwright -m multiprocess tests/deploy $(PYTEST_ARGS)

# Browser tests in Debian's Chromium (apt-get install -y chromium); one process, live server.
CHROMIUM ?= /usr/bin/chromium
# The journeys check every page with axe-core (axe-playwright-python bundles axe.min.js).
e2e: install-dev
	@test -x $(CHROMIUM) || { echo "Chromium not found at $(CHROMIUM): apt-get install -y chromium"; exit 1; }
	@$(BIN)/python -c "import axe_playwright_python" 2>/dev/null || { echo "axe-playwright-python is missing: pip install -r requirements-dev.txt (make install-dev)"; exit 1; }
	SMP_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -p no:xdist tests/e2e $(PYTEST_ARGS)

# PNGs of the main pages into docs/screenshots/ (shown in the README), taken in Chromium on
# the demo clinic by tests/e2e/screenshots.py.
screenshots: install-dev
	@test -x $(CHROMIUM) || { echo "Chromium not found at $(CHROMIUM): apt-get install -y chromium"; exit 1; }
	SMP_CHROMIUM=$(CHROMIUM) SMP_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -p no:xdist -p no:cacheprovider tests/e2e/screenshots.py -q

# Benchmarks print figures; they assert nothing (bench/README.md). PostgreSQL on
# 127.0.0.1:5432; the first run seeds S (1,000 clients) and L (100,000) itself.
# BENCH_ARGS="--no-seed" reuses seeded databases; "--no-seed --quick" for development.
$(VENV)/.installed-bench: requirements-bench.txt requirements-dev.txt requirements.txt bench/setup.sh | $(BIN)/python
	bash bench/setup.sh
	touch $(VENV)/.installed $(VENV)/.installed-dev $@

bench-setup: $(VENV)/.installed-bench

bench: bench-setup
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python bench/photos.py

photos: bench-setup
	$(BIN)/python bench/photos.py

# Locust against gunicorn + PostgreSQL on 127.0.0.1: 50 users for 3 minutes; fails unless
# every request succeeded and the database holds exactly the scenario's writes.
# LOAD_ARGS="--no-seed --users 10 --duration 30s" for a quick run.
load: bench-setup
	$(BIN)/python -m bench.load $(LOAD_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# Static security scan of the shipped code (tests, migrations and bench are excluded in
# pyproject.toml); zero findings, or a `# nosec BXXX  # reason` on the line. CI runs it.
# (bandit warns "nosec encountered ... but no failed test" for some multi-node lines: harmless.)
security: install-dev
	$(BIN)/bandit -c pyproject.toml -r smpclinic cases artists -q

# Known vulnerabilities in the pinned packages. pip-audit needs its vulnerability service
# (network), so CI does not depend on it; pip-audit is installed into the venv on first use.
audit: install
	@$(BIN)/python -m pip_audit --version >/dev/null 2>&1 || $(BIN)/pip install --quiet pip-audit
	$(BIN)/python -m pip_audit --requirement requirements.txt --strict

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .serve-secret-key .pytest_cache .ruff_cache .test-db.sqlite3* .test-db-schema-* .test-media test-results
