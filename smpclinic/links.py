"""Links of the rows of a list: a named URL reversed once per page, each row's id put in."""

from __future__ import annotations

import uuid

from django.urls import reverse

# Stands for a row's public id while the URL is reversed: no row has it (public ids are
# random, version 4; this one is all zeros).
_STAND_IN = uuid.UUID(int=0)


class Link:
    """The URL of the view `viewname` for any public id passed as its argument `kwarg`,
    plus `suffix` (a "#section").

    `{% url %}` reverses the URL again at every row of a list (finds the pattern, checks
    and quotes the arguments): at a few hundred rows, milliseconds of the page go to
    reversing the same pattern. A Link reverses it once, with a stand-in id, and makes
    each row's URL by putting the row's id in its place: what `reverse` would give,
    script prefix included (read when the Link is made: make one per request)."""

    def __init__(self, viewname: str, kwarg: str, suffix: str = ""):
        before, after = reverse(viewname, kwargs={kwarg: _STAND_IN}).split(str(_STAND_IN))
        self._before, self._after = before, after + suffix

    def __call__(self, public_id: uuid.UUID) -> str:
        return f"{self._before}{public_id}{self._after}"
