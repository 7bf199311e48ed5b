from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Lower, Upper
from django.db.models.lookups import Exact
from django.utils import timezone

from cases.choices import Fitzpatrick, NorwoodStage
from smpclinic.concurrency import Versioned
from smpclinic.dates import PAST
from smpclinic.history import HistoricalRecords
from smpclinic.models import Archivable, ArchivableQuerySet, ClinicSettings, PublicIdMixin, Timestamped
from smpclinic.unaccent import fold


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` calendar months earlier (clamped to the month's end)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# A date of birth before this is a typing mistake, not a client.
EARLIEST_DOB = datetime.date(1900, 1, 1)


@dataclass(frozen=True)
class Contraindication:
    code: str
    label: str
    blocks_laser: bool  # refused without a manager override (isotretinoin, active infection)


# A case reference as next_reference writes it (SMP-2026-0042), in any letter case.
CASE_REFERENCE = re.compile(r"[A-Za-z]+-\d{4}-\d{4,}")
# Part of one: its start (SMP-2026-12, SMP-20) or its year and number (2026-0042).
CASE_REFERENCE_PART = re.compile(r"([A-Za-z]+-)?\d{4}-\d*|[A-Za-z]+-\d{1,4}")
# A number alone (0042, as a client reads it out) may be a reference's or a phone's.
CASE_NUMBER = re.compile(r"\d{3,}")
# A whole e-mail address (its owner, not every address that contains it).
EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


# The columns a row of the client list reads: what it shows, and what
# `Client.contraindications` reads to flag the row.
LIST_COLUMNS = (
    *("public_id", "first_name", "last_name", "preferred_name", "date_of_birth", "fitzpatrick_type"),
    *("pregnant_or_breastfeeding", "isotretinoin_last_dose", "photosensitising_medication", "gold_therapy"),
    *("immunosuppression_last", "active_infection", "open_wounds", "recent_sunburn_or_tan", "keloid_history"),
    "ink_allergy",
)


class ClientQuerySet(ArchivableQuerySet):
    def search(self, text: str) -> Self:
        """Clients whose names (accents aside), e-mail or phone contain every word; a whole
        e-mail address finds the clients with that address (in any letter case); a word
        written as a case reference (SMP-2026-0042) finds the client of that case, part of
        one (SMP-2026-00, 2026-0042) the clients of the cases whose reference holds it, and
        a number alone (0042) either. On PostgreSQL the name, e-mail, phone and reference
        lookups read trigram indexes (migrations cases 0009 and 0015), so a search does
        not scan every client."""
        text = text.strip()
        if not text:
            return self
        from cases.models.cases import Case

        q = Q()
        for word in text.split():
            if CASE_REFERENCE.fullmatch(word):
                # A case reference finds its client through the reference's unique index
                # (a semi-join: a join to cases would make the list DISTINCT over every
                # client). Alone, so the name lookups below keep their own indexes.
                q &= Q(pk__in=Case.objects.filter(reference=word.upper()).values("client_id"))
                continue
            if EMAIL_ADDRESS.fullmatch(word):
                # The address's owner, through the index on the upper-cased address (written
                # as that expression, not iexact, which SQLite runs as LIKE). As part
                # of every address (icontains), the trigrams every address shares (".com",
                # "@ex…") would make PostgreSQL read most of the trigram index.
                q &= Q(Exact(Upper("email"), word.upper()))
                continue
            if CASE_REFERENCE_PART.fullmatch(word):
                q &= Q(pk__in=Case.objects.filter(reference__icontains=word).values("client_id"))
                continue
            # Names without their accents, on both sides ("Lopez" finds López, and
            # "López" Lopez): smpclinic.unaccent, the names' trigram indexes built on it.
            # PostgreSQL checks each row the indexes find against these in this order
            # and stops at the first that holds: the plain e-mail first (it often holds
            # the name), then the surname, so that few rows pay for removing accents
            # (at 100,000 clients, 861 matches: 1.0 ms rather than 2.4 names first).
            folded = fold(word)
            about_them = (
                Q(email__icontains=word)
                | Q(last_name__unaccented__icontains=folded)
                | Q(first_name__unaccented__icontains=folded)
                | Q(phone__icontains=word)
            )
            if CASE_NUMBER.fullmatch(word):
                # Either a reference's number or a phone's digits: one list of the client ids
                # each finds (a UNION, each side reading its own trigram index; an OR of the
                # two would walk every client).
                people = self.model.objects.active().filter(about_them).order_by().values("pk")
                numbered = Case.objects.filter(reference__icontains=word).order_by().values("client_id")
                q &= Q(pk__in=people.union(numbered))
                continue
            q &= about_them
        return self.filter(q)

    def visible_to(self, user) -> Self:
        from smpclinic import roles

        if roles.is_clinic_user(user):
            return self.active()
        if roles.is_client(user):
            return self.active().filter(user=user)
        return self.none()

    @staticmethod
    def contraindication_q(on: datetime.date | None = None, clinic: ClinicSettings | None = None) -> Q:
        """The rows for which Client.contraindications(on, clinic) is not empty, as a Q.

        Mirrors that method flag by flag (docs/domain.md#contraindications): isotretinoin
        counts within the clinic's washout window, chemotherapy/immunosuppression within
        6 months. A test checks the two agree for every flag.
        """
        on = on or timezone.localdate()
        clinic = clinic or ClinicSettings.load()
        return (
            Q(pregnant_or_breastfeeding=True)
            | Q(isotretinoin_last_dose__gt=months_before(on, clinic.isotretinoin_washout_months))
            | Q(photosensitising_medication=True)
            | Q(gold_therapy=True)
            | Q(immunosuppression_last__gt=months_before(on, 6))
            | Q(active_infection=True)
            | Q(open_wounds=True)
            | Q(recent_sunburn_or_tan=True)
            | Q(keloid_history=True)
            | Q(ink_allergy=True)
        )

    def with_contraindication(self, on: datetime.date | None = None, clinic: ClinicSettings | None = None) -> Self:
        return self.filter(self.contraindication_q(on, clinic))

    def without_contraindication(self, on: datetime.date | None = None, clinic: ClinicSettings | None = None) -> Self:
        return self.exclude(self.contraindication_q(on, clinic))

    def with_case(self, **case_filter) -> Self:
        """Clients with at least one active case matching `case_filter` (all on the same case)."""
        from .cases import Case

        return self.filter(Exists(Case.objects.active().filter(client=OuterRef("pk"), **case_filter)))

    def possible_duplicates(
        self,
        *,
        first_name: str,
        last_name: str,
        date_of_birth: datetime.date | None,
        email: str = "",
        exclude_pk: int | None = None,
    ) -> Self:
        """Active clients that may be the same person: same first and last name
        (ignoring case) and date of birth, or the same e-mail address (ignoring case)."""
        q = Q()
        if first_name.strip() and last_name.strip() and date_of_birth:
            q |= Q(
                first_name__iexact=first_name.strip(),
                last_name__iexact=last_name.strip(),
                date_of_birth=date_of_birth,
            )
        if email.strip():
            q |= Q(email__iexact=email.strip())
        if not q:
            return self.none()
        qs = self.active().filter(q)
        return qs.exclude(pk=exclude_pk) if exclude_pk else qs

    def for_list(self) -> Self:
        """What a row of the client list shows, and only that. Its contraindications are
        worked out from these columns by `Client.contraindications`, and its open cases
        counted by `count_open_cases`, for the page's rows only: as expressions in the
        query, they cost a search more to build and compile than the rows to read."""
        return self.only(*LIST_COLUMNS)


def count_open_cases(clients: list[Client]) -> None:
    """Set `open_case_count` on each of these clients, counted in one query."""
    from .cases import Case

    open_cases = Counter(
        Case.objects.active()
        .open()
        .filter(client__in=[client.pk for client in clients])
        .order_by()
        .values_list("client_id", flat=True)
    )
    for client in clients:
        client.open_case_count = open_cases[client.pk]


class Client(Versioned, Archivable, PublicIdMixin, Timestamped):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="client",
        help_text="Portal login, once the client is invited.",
    )
    reminders_opt_in = models.BooleanField("agrees to e-mail reminders", default=False)

    fitzpatrick_type = models.CharField("Fitzpatrick skin type", max_length=3, choices=Fitzpatrick.choices)
    norwood_stage = models.CharField("Hamilton–Norwood stage", max_length=12, choices=NorwoodStage.choices, blank=True)

    # Contraindications for laser work (docs/domain.md#contraindications); shown on every laser form.
    pregnant_or_breastfeeding = models.BooleanField(default=False)
    isotretinoin_last_dose = models.DateField(
        "last isotretinoin dose", null=True, blank=True, validators=PAST, help_text="Leave empty if never taken."
    )
    photosensitising_medication = models.BooleanField(default=False)
    gold_therapy = models.BooleanField(default=False)
    immunosuppression_last = models.DateField(
        "last chemotherapy or immunosuppression", null=True, blank=True, validators=PAST
    )
    active_infection = models.BooleanField("active infection or herpes at or near the site", default=False)
    open_wounds = models.BooleanField(default=False)
    recent_sunburn_or_tan = models.BooleanField(default=False)
    keloid_history = models.BooleanField(default=False)
    ink_allergy = models.BooleanField("known ink allergy", default=False)
    allergies = models.TextField(blank=True)
    medications = models.TextField(blank=True)
    internal_notes = models.TextField(blank=True, help_text="Never shown to the client.")

    objects = ClientQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name"]
        permissions = [
            ("use_portal", "Can use the client portal (own records only)"),
            ("export_client", "Can export everything held about a client"),
            ("anonymise_client", "Can anonymise a client"),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"]),
            # The client list's order: names whatever their letter case ("de Vries" among
            # the D's, not after the Z's), walked page by page (cases.views.clients).
            models.Index(Lower("last_name"), Lower("first_name"), F("id"), name="client_list_order"),
            models.Index(fields=["email"]),
            # A search for a whole e-mail address (ClientQuerySet.search): UPPER(email) = …
            models.Index(Upper("email"), name="client_email_upper"),
            models.Index(fields=["date_of_birth"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=datetime.date(1900, 1, 1)),
                name="client_date_of_birth_plausible",
                violation_error_message="Date of birth must be after 1900.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def clean(self) -> None:
        super().clean()
        today = timezone.localdate()
        if self.date_of_birth and self.date_of_birth > today:
            raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})
        if self.date_of_birth and self.date_of_birth < EARLIEST_DOB:
            raise ValidationError({"date_of_birth": "Date of birth must be after 1900."})
        for field in ("isotretinoin_last_dose", "immunosuppression_last"):
            value = getattr(self, field)
            if value and value > today:
                raise ValidationError({field: "This date cannot be in the future."})

    def age_on(self, day: datetime.date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    def contraindications(
        self, on: datetime.date | None = None, clinic: ClinicSettings | None = None
    ) -> list[Contraindication]:
        """Laser contraindications on a day (docs/domain.md#contraindications).

        Isotretinoin counts within the clinic's washout window (default 6 months) and
        chemotherapy/immunosuppression within 6 months; isotretinoin and active
        infection block a laser session unless a manager overrides.
        """
        on = on or timezone.localdate()
        clinic = clinic or ClinicSettings.load()
        found = []
        if self.pregnant_or_breastfeeding:
            found.append(Contraindication("pregnancy", "Pregnant or breastfeeding", False))
        washout_start = months_before(on, clinic.isotretinoin_washout_months)
        if self.isotretinoin_last_dose and self.isotretinoin_last_dose > washout_start:
            found.append(
                Contraindication(
                    "isotretinoin",
                    f"Isotretinoin within {clinic.isotretinoin_washout_months} months "
                    f"(last dose {self.isotretinoin_last_dose:%-d %b %Y})",
                    True,
                )
            )
        if self.photosensitising_medication:
            found.append(Contraindication("photosensitising", "Photosensitising medication", False))
        if self.gold_therapy:
            found.append(Contraindication("gold_therapy", "Gold therapy", False))
        if self.immunosuppression_last and self.immunosuppression_last > months_before(on, 6):
            found.append(
                Contraindication("immunosuppression", "Chemotherapy or immunosuppression in the last 6 months", False)
            )
        if self.active_infection:
            found.append(Contraindication("active_infection", "Active infection or herpes at or near the site", True))
        if self.open_wounds:
            found.append(Contraindication("open_wounds", "Open wounds", False))
        if self.recent_sunburn_or_tan:
            found.append(Contraindication("sunburn", "Recent sunburn or tan", False))
        if self.keloid_history:
            found.append(Contraindication("keloid", "Keloid history", False))
        if self.ink_allergy:
            found.append(Contraindication("ink_allergy", "Known ink allergy", False))
        return found
