"""The production settings (smpclinic.settings, DEBUG off) plus the bench's floor page.

Two changes only: the root URLconf adds the floor (bench/urls.py), and static files use
plain StaticFilesStorage, so pages render without running collectstatic first (the
manifest storage would refuse every {% static %} tag). Everything else, middleware
included, is what a deployment runs.
"""

import warnings

from smpclinic.settings import *  # noqa: F403
from smpclinic.settings import BASE_DIR, STORAGES, TEMPLATES

ROOT_URLCONF = "bench.urls"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]}]

# whitenoise warns on every start that STATIC_ROOT does not exist (no collectstatic here).
warnings.filterwarnings("ignore", message="No directory at")
