"""Fast settings for the test suite: same database choice, cheaper hashing, in-memory mail."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")

from smpclinic.settings import *  # noqa: F403
from smpclinic.settings import BASE_DIR, LOGGING, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / ".test-media"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Serve static files from the finders: tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tasks run at once inside the test; tests of the worker itself override this.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# No request lines among the test output; tests of the log raise the level themselves.
LOGGING["loggers"]["smpclinic.requests"]["level"] = "WARNING"
