"""Accent-insensitive matching: "Lopez" finds López, "wisniewski" Wiśniewski.

`smp_unaccent(text)` is a function of the database: on PostgreSQL a wrapper of the
`unaccent` extension's dictionary declared IMMUTABLE (as `unaccent()` itself is not), so
that an index can be built on it (migration `cases.0020`); on SQLite this module's
`fold`, registered on each connection as it opens. The `unaccented` transform applies it
to a text column (`last_name__unaccented__icontains=fold(word)`); the words typed are
folded here, by `fold`, before they are compared.
"""

from __future__ import annotations

import unicodedata

from django.db.backends.signals import connection_created
from django.db.models import CharField, TextField, Transform

FUNCTION = "smp_unaccent"

# Letters that are not a base letter plus marks in Unicode, so that decomposing them
# leaves them as they are; PostgreSQL's unaccent dictionary maps them like this.
_LETTERS = str.maketrans(
    {"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}
    | {"đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i", "ħ": "h", "Ħ": "H"}
)


def fold(text: str | None) -> str | None:
    """`text` without its accents and other marks (é → e, ś → s, ø → o, ß → ss)."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class Unaccented(Transform):
    lookup_name = "unaccented"
    function = FUNCTION


def _register_on_sqlite(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(FUNCTION, 1, fold, deterministic=True)


def install() -> None:
    """Make the transform available on text fields, and the function on SQLite (the app's
    `ready()`; PostgreSQL's is made by a migration)."""
    CharField.register_lookup(Unaccented)
    TextField.register_lookup(Unaccented)
    connection_created.connect(_register_on_sqlite, dispatch_uid="smp_unaccent_on_sqlite")
