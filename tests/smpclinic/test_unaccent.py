"""`fold`: a text without its accents, as both databases compare names (smpclinic.unaccent)."""

from __future__ import annotations

import pytest
from django.db import connection

from smpclinic.unaccent import fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("López", "Lopez"),
        ("Wiśniewski", "Wisniewski"),
        ("Zoë Ångström", "Zoe Angstrom"),
        ("Straße", "Strasse"),
        ("Søren Ørsted", "Soren Orsted"),
        ("Łukasz Dąbrowski", "Lukasz Dabrowski"),
        ("Æsa Œuvre", "AEsa OEuvre"),
        ("Nguyễn", "Nguyen"),
        ("O'Brien-Smith", "O'Brien-Smith"),  # nothing to remove
        ("", ""),
    ],
)
def test_fold_removes_accents_and_writes_out_special_letters(text, folded):
    assert fold(text) == folded


def test_fold_keeps_none():
    assert fold(None) is None


@pytest.mark.django_db
def test_the_database_folds_as_the_search_does():
    """The column side of a comparison is folded by the database's smp_unaccent: on SQLite
    this module's function, on PostgreSQL the unaccent extension's dictionary."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT smp_unaccent(%s), smp_unaccent(%s), smp_unaccent(NULL)", ["López Wiśniewski", "Straße"])
        assert cursor.fetchone() == ("Lopez Wisniewski", "Strasse", None)
