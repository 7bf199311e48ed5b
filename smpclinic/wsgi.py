"""The WSGI application gunicorn serves (gunicorn.conf.py).

The views are imported here rather than by the first request, so that a worker's first
visitor does not wait for them and so that they are among what the cycle collector
leaves alone from then on (smpclinic/collector.py).
"""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from smpclinic import collector

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smpclinic.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - imports every URLconf and view module
collector.relax()
collector.freeze_loaded()
