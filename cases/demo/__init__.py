"""A deterministic demo clinic for `manage.py seed_demo`, one module per part:

    vocabulary  the words: names, places, medicines, and the clinical text of the records
    clinic      the clinic itself: logins, staff, studios, devices, consent texts
    timeline    pass one: what happens to each client over time, in day offsets
    writer      the bulk writer: rows with keys allocated up front, inserted with executemany
    painter     the image painter: the demo's before, progress and after photos
    generator   the entry points (`seed`, the demo logins) and pass two, timelines into rows

The names below are what `manage.py seed_demo` and the benchmarks use.
"""

from cases.demo.clinic import DEMO_USERNAMES
from cases.demo.generator import DEFAULT_CLIENTS, DEFAULT_PASSWORD, DEMO_APP_NAME, database_has_data, demo_logins, seed

__all__ = [
    "DEFAULT_CLIENTS",
    "DEFAULT_PASSWORD",
    "DEMO_APP_NAME",
    "DEMO_USERNAMES",
    "database_has_data",
    "demo_logins",
    "seed",
]
