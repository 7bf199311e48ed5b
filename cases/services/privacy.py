"""A client's rights over their data: a copy of everything held (subject access) and
anonymisation (identity removed, clinical history kept).

Both are manager actions on one client. The export reads every record of the client,
archived ones included, and nothing of anyone else's; anonymising rewrites the client's
identity everywhere it is stored (the record, its history, the portal login, typed-name
signatures) in one transaction, and deletes photo files only once that transaction has
committed. What each keeps and why: docs/privacy.md.
"""

from __future__ import annotations

import datetime
import decimal
import json
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from cases import pdf
from cases.models import (
    AccessEvent,
    Booking,
    CalendarFeed,
    Case,
    Client,
    Consent,
    Consultation,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserSession,
    Photo,
    PlanStep,
    PortalInvitation,
    RuleOverride,
    SentReminder,
    TreatmentPlan,
)
from cases.services import diary
from smpclinic import roles
from smpclinic.concurrency import lock_for_edit
from smpclinic.models import ChoiceLookup, ClinicSettings

# An anonymised client is archived with a reason starting with this; it is how a second
# attempt is recognised (the record keeps no other trace of who the person was).
ANONYMISED_PREFIX = "Anonymised: "
ANONYMISED_FIRST_NAME = "Anonymised client"
PHOTO_ARCHIVE_REASON = "anonymised"

# Internal keys and file names: nothing a person can read, or the storage's own names.
_NEVER_EXPORTED = {
    "id",
    "lock_version",
    "submission_token",
    "image",
    "thumbnail",
    "screen",
    "sha256",
    "file_sha256",
    "token_hash",
    "key",
}

# The client's own fields that say who they are or how to reach them, and what each
# becomes. Clinical fields (skin type, Norwood stage, contraindications, allergies,
# medications) stay: they are the clinical history anonymisation keeps.
IDENTITY_CLEARED = {
    "preferred_name": "",
    "email": "",
    "phone": "",
    "address": "",
    "internal_notes": "",
}


def client_reference(client: Client) -> str:
    """The short reference staff read and type to confirm: the first 8 hex digits of the
    client's public id (random, so it says nothing about the person)."""
    return client.public_id.hex[:8]


def anonymised_name(client: Client) -> str:
    return f"{ANONYMISED_FIRST_NAME} {client_reference(client)}"


def is_anonymised(client: Client) -> bool:
    return client.archive_reason.startswith(ANONYMISED_PREFIX)


def reduced_date_of_birth(day: datetime.date) -> datetime.date:
    """The year of birth only, kept as 1 January of that year: never later than the real
    date (so never in the future), and enough for age bands in reports."""
    return datetime.date(day.year, 1, 1)


# ---------------------------------------------------------------------------- export


def _person(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


class _Labels:
    """Names of the rows foreign keys point to, each looked up once per export."""

    def __init__(self):
        self._seen: dict[tuple[type, Any], Any] = {}

    def of(self, model: type[models.Model], pk) -> Any:
        key = (model, pk)
        if key not in self._seen:
            row = model._base_manager.filter(pk=pk).first()
            self._seen[key] = self.describe(row)
        return self._seen[key]

    @staticmethod
    def describe(row) -> Any:
        if row is None:
            return None
        if isinstance(row, get_user_model()):
            return _person(row)
        if hasattr(row, "public_id"):
            return {"id": str(row.public_id), "name": str(row)}
        return str(row)


def _plain(field: models.Field, value: Any) -> Any:
    """A stored value as the export shows it: choices with code and label, dates in ISO
    form (times in the clinic's zone), decimals and ids as text."""
    if value is None:
        return None
    if field.choices:
        labels = dict(field.flatchoices)
        return {"code": value, "label": str(labels.get(value, value))}
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.name not in _NEVER_EXPORTED]


def _row(obj: models.Model, labels: _Labels, *, m2m: Iterable[str] = ()) -> dict[str, Any]:
    """Every field of a record by its name; links to other rows by their name (people) or
    public id and name (records); many-to-many choices as code and label."""
    out: dict[str, Any] = {}
    for field in _fields(type(obj)):
        if field.name == "public_id":
            out["id"] = str(obj.public_id)
        elif field.is_relation:
            pk = getattr(obj, field.attname)
            out[field.name] = None if pk is None else labels.of(field.related_model, pk)
        else:
            out[field.name] = _plain(field, getattr(obj, field.attname))
    for name in m2m:
        out[name] = [_lookup(item) for item in getattr(obj, name).all()]
    return out


def _lookup(item: ChoiceLookup) -> dict[str, str]:
    return {"code": item.code, "label": item.label}


def _tracked_m2m(model: type[models.Model]) -> list[str]:
    return [f.name for f in getattr(model.history.model, "_history_m2m_fields", [])]


def _history(model: type[models.Model], ids: list[int], labels: _Labels) -> list[dict[str, Any]]:
    """Every stored version of these records, oldest first: who changed what, when, why.

    A creation lists the values it was made with; a change lists each field that moved
    (from → to), many-to-many fields included."""
    if not ids:
        return []
    historical = model.history.model
    rows = list(
        historical.objects.filter(id__in=ids)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    snapshots = {row.history_id: _history_values(model, row, labels) for row in rows}
    for name in _tracked_m2m(model):
        through = getattr(historical, name).model
        target = next(
            f
            for f in through._meta.fields
            if f.is_relation and f.related_model is model._meta.get_field(name).related_model
        )
        found: dict[int, list] = {}
        for entry in through.objects.filter(history_id__in=snapshots).select_related(target.name).order_by("pk"):
            found.setdefault(entry.history_id, []).append(_lookup(getattr(entry, target.name)))
        for history_id, values in snapshots.items():
            values[name] = sorted(found.get(history_id, []), key=lambda item: item["code"])
    public_ids = dict(model._base_manager.filter(pk__in=ids).values_list("pk", "public_id"))
    out = []
    previous: dict[int, dict] = {}
    for row in rows:
        values = snapshots[row.history_id]
        entry = {
            "record": str(model._meta.verbose_name),
            "record_id": str(public_ids.get(row.id, "")),
            "at": timezone.localtime(row.history_date).isoformat(),
            "by": _person(row.history_user),
            "action": row.get_history_type_display(),
            "reason": row.history_change_reason or None,
        }
        before = previous.get(row.id)
        if before is None:
            entry["values"] = values
        else:
            entry["changes"] = {
                name: {"from": before.get(name), "to": value}
                for name, value in values.items()
                if before.get(name) != value and name not in ("updated_at",)
            }
        previous[row.id] = values
        out.append(entry)
    return out


def _history_values(model: type[models.Model], row, labels: _Labels) -> dict[str, Any]:
    out = {}
    for field in _fields(model):
        if field.name == "public_id":
            continue
        value = getattr(row, field.attname)
        out[field.name] = (
            (None if value is None else labels.of(field.related_model, value))
            if field.is_relation
            else _plain(field, value)
        )
    return out


def _photo_names(photos: list[Photo]) -> dict[int, str]:
    """photos/<case>/<taken>-<kind>-<angle>.jpg for each photo; a second photo of the same
    day, kind and angle gets -2, -3… so none overwrites another."""
    names: dict[int, str] = {}
    used: set[str] = set()
    for photo in sorted(photos, key=lambda p: (p.case.reference, p.taken_on, p.kind, p.angle, p.pk)):
        stem = f"photos/{photo.case.reference}/{photo.taken_on.isoformat()}-{photo.kind}-{photo.angle}"
        name, n = f"{stem}.jpg", 1
        while name in used:
            n += 1
            name = f"{stem}-{n}.jpg"
        used.add(name)
        names[photo.pk] = name
    return names


def subject_access_record(client: Client, *, photo_names: dict[int, str] | None = None) -> dict[str, Any]:
    """Everything held about `client`, archived records included, as plain JSON-ready data.

    Every query starts from this client (its pk or its cases' pks), so no other client's
    row can enter. `photo_names` maps photo pks to their path in the zip (a photo whose
    file is missing from storage is listed with "file": null)."""
    labels = _Labels()
    cases = list(Case.objects.filter(client=client).prefetch_related("regret_reasons").order_by("opened_on", "pk"))
    case_ids = [case.pk for case in cases]
    overrides = list(RuleOverride.objects.filter(case_id__in=case_ids).order_by("created_at", "pk"))
    photos = list(Photo.objects.filter(case_id__in=case_ids).select_related("case").order_by("taken_on", "pk"))
    photo_names = _photo_names(photos) if photo_names is None else photo_names

    def of_case(rows: Iterable, case: Case) -> list:
        return [row for row in rows if row.case_id == case.pk]

    consultations = list(Consultation.objects.filter(case_id__in=case_ids).order_by("held_at", "pk"))
    issues = list(Issue.objects.filter(case_id__in=case_ids).order_by("identified_on", "pk"))
    plans = list(
        TreatmentPlan.objects.filter(case_id__in=case_ids)
        .prefetch_related(
            "options", models.Prefetch("steps", PlanStep.objects.order_by("order", "pk").prefetch_related("zones"))
        )
        .order_by("version", "pk")
    )
    lasers = list(
        LaserSession.objects.filter(case_id__in=case_ids)
        .prefetch_related("zones", "adverse_events")
        .order_by("scheduled_at", "pk")
    )
    corrections = list(
        CorrectionSession.objects.filter(case_id__in=case_ids).prefetch_related("zones").order_by("scheduled_at", "pk")
    )
    follow_ups = list(
        FollowUp.objects.filter(case_id__in=case_ids).prefetch_related("side_effects").order_by("due_on", "pk")
    )
    consents = list(Consent.objects.filter(client=client).select_related("text").order_by("signed_at", "pk"))

    def session(row, m2m):
        out = _row(row, labels, m2m=m2m)
        field = "laser_session_id" if isinstance(row, LaserSession) else "correction_session_id"
        out["overrides"] = [_row(o, labels) for o in overrides if getattr(o, field) == row.pk]
        return out

    def photo(row: Photo) -> dict:
        out = _row(row, labels)
        out["file"] = photo_names.get(row.pk)
        return out

    def plan(row: TreatmentPlan) -> dict:
        out = _row(row, labels, m2m=["options"])
        out["steps"] = [_row(step, labels, m2m=["zones"]) for step in row.steps.all()]
        return out

    case_records = []
    for case in cases:
        out = _row(case, labels, m2m=["regret_reasons"])
        out.update(
            consultations=[_row(r, labels) for r in of_case(consultations, case)],
            issues=[_row(r, labels) for r in of_case(issues, case)],
            plans=[plan(r) for r in of_case(plans, case)],
            laser_sessions=[session(r, ["zones", "adverse_events"]) for r in of_case(lasers, case)],
            correction_sessions=[session(r, ["zones"]) for r in of_case(corrections, case)],
            follow_ups=[_row(r, labels, m2m=["side_effects"]) for r in of_case(follow_ups, case)],
            photos=[photo(r) for r in of_case(photos, case)],
            overrides_without_session=[
                _row(o, labels) for o in of_case(overrides, case) if not (o.laser_session_id or o.correction_session_id)
            ],
        )
        case_records.append(out)

    consent_records = []
    for consent in consents:
        out = _row(consent, labels)
        out["text"] = _row(consent.text, labels)
        consent_records.append(out)

    portal = None
    if client.user_id is not None:
        user = client.user
        portal = {
            "username": user.get_username(),
            "email": user.email,
            "active": user.is_active,
            "date_joined": _plain(user._meta.get_field("date_joined"), user.date_joined),
            "last_login": _plain(user._meta.get_field("last_login"), user.last_login),
        }

    history = []
    for model, ids in (
        (Client, [client.pk]),
        (Case, case_ids),
        (Consultation, [r.pk for r in consultations]),
        (Issue, [r.pk for r in issues]),
        (TreatmentPlan, [r.pk for r in plans]),
        (PlanStep, [s.pk for r in plans for s in r.steps.all()]),
        (LaserSession, [r.pk for r in lasers]),
        (CorrectionSession, [r.pk for r in corrections]),
        (FollowUp, [r.pk for r in follow_ups]),
        (Consent, [r.pk for r in consents]),
        (Photo, [r.pk for r in photos]),
    ):
        history += _history(model, ids, labels)
    history.sort(key=lambda entry: datetime.datetime.fromisoformat(entry["at"]))

    return {
        "export": {
            "what": "Subject access export: every record the clinic holds about this client.",
            "clinic": ClinicSettings.load().name,
            "client_reference": client_reference(client),
            "generated_at": timezone.localtime().isoformat(),
            "notes": "Dates are ISO 8601, times in the clinic's time zone. Choices show their code and label. "
            "Fields marked internal in the clinic's software are staff notes, included because they are "
            "about the client.",
        },
        "client": _row(client, labels),
        "portal_login": portal,
        "portal_invitations": [
            _row(r, labels) for r in PortalInvitation.objects.filter(client=client).order_by("created_at", "pk")
        ],
        "reminders_sent": [
            _row(r, labels) for r in SentReminder.objects.filter(client=client).order_by("claimed_at", "pk")
        ],
        "consents": consent_records,
        "cases": case_records,
        "history": history,
        "access_log": [
            {
                "at": timezone.localtime(event.at).isoformat(),
                "by": _person(event.user),
                "action": {"code": event.action, "label": event.get_action_display()},
                "what": event.what,
            }
            for event in AccessEvent.objects.filter(client=client).select_related("user").order_by("at", "pk")
        ],
    }


def _copy_photo(archive: zipfile.ZipFile, photo: Photo, name: str) -> bool:
    """Copy a stored original into the zip in chunks (photos can be many MB); False when
    the file is no longer in storage (its photo was removed when anonymising)."""
    try:
        source = photo.image.storage.open(photo.image.name, "rb")
    except (FileNotFoundError, OSError):
        return False
    # Stored, not deflated: a JPEG does not compress, and deflating many MB is slow.
    info = zipfile.ZipInfo(name, date_time=timezone.localtime(photo.created_at).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    with source, archive.open(info, "w", force_zip64=True) as target:
        shutil.copyfileobj(source, target, 1024 * 1024)
    return True


def subject_access_export(*, client: Client) -> IO[bytes]:
    """The zip a manager hands to the client who asked for their data: record.json,
    summary.pdf and photos/<case>/<taken>-<kind>-<angle>.jpg (the stored originals).

    Built in a temporary file, not in memory, since photos can be many MB; the caller
    streams it and closing it removes it. Read in one transaction, so the JSON, the PDF
    and the photos describe the same moment."""
    output = tempfile.TemporaryFile(suffix=".zip")  # noqa: SIM115 (the response closes it)
    try:
        with transaction.atomic():
            client = Client.objects.get(pk=client.pk)
            photos = list(Photo.objects.filter(case__client=client).select_related("case"))
            names = _photo_names(photos)
            with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
                for photo in photos:
                    if not _copy_photo(archive, photo, names[photo.pk]):
                        names.pop(photo.pk)
                record = subject_access_record(client, photo_names=names)
                archive.writestr("record.json", json.dumps(record, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder))
                html = render_to_string("cases/privacy/summary_pdf.html", {"record": record})
                archive.writestr("summary.pdf", pdf.render(html))
    except BaseException:
        output.close()
        raise
    output.seek(0)
    return output


# ---------------------------------------------------------------------------- anonymise


def _storage_names(photo: Photo) -> list[tuple[Any, str]]:
    return [(f.storage, f.name) for f in (photo.image, photo.screen, photo.thumbnail) if f.name]


def _delete_files(files: list[tuple[Any, str]]) -> None:
    """Run after the commit: a rolled-back anonymisation must leave every file in place."""
    for storage, name in files:
        storage.delete(name)


@transaction.atomic
def client_anonymise(*, client: Client, by, reason: str, confirmation: str, remove_photos: bool) -> Client:
    """Remove who the client is and how to reach them; keep what was done and why.

    Irreversible. Kept: cases, consultations, issues, plans with steps, sessions with their
    parameters, follow-ups, consents (which text, when signed and withdrawn), overrides.
    Removed: names (now "Anonymised client <reference>"), day and month of birth, contact
    details, the client's internal notes, the portal login (deactivated, names and e-mail
    cleared, unusable password), pending invitations (revoked), the e-mail addresses on
    invitations and reminders (and a failed reminder's error), the typed names, IP
    addresses and browsers on signatures, and all of it in the history rows too, or the
    old identity would survive there. With `remove_photos`, the photo files (original,
    screen copy, thumbnail) are deleted after the commit and the rows archived as
    "anonymised". The client is archived with the reason, who and when: that is the
    record of the anonymisation.
    """
    roles.check(by, roles.ANONYMISE_CLIENT)
    stored = lock_for_edit(client)
    if is_anonymised(stored):
        raise ValidationError(
            f"This client was already anonymised on {timezone.localtime(stored.archived_at):%-d %b %Y}; "
            "there is nothing left to remove."
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for anonymising (for example, the client's request)."})
    reference = client_reference(stored)
    if (confirmation or "").strip().lower() != reference:
        raise ValidationError({"confirmation": f"Type the client's reference, {reference}, to confirm."})

    name = anonymised_name(stored)
    identity = {
        **IDENTITY_CLEARED,
        "first_name": ANONYMISED_FIRST_NAME,
        "last_name": reference,
        "date_of_birth": reduced_date_of_birth(stored.date_of_birth),
    }
    for field, value in identity.items():
        setattr(stored, field, value)
    stored.reminders_opt_in = False
    stored.archived_at = timezone.now()
    stored.archived_by = by
    stored.archive_reason = f"{ANONYMISED_PREFIX}{reason}"[:500]
    stored._change_reason = "Anonymised"
    stored.save()
    Client.history.filter(id=stored.pk).update(**identity)

    if stored.user_id is not None:
        user = stored.user
        user.username = f"anonymised-{reference}"
        user.first_name = user.last_name = user.email = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()

    now = timezone.now()
    invitations = PortalInvitation.objects.filter(client=stored)
    invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    invitations.update(sent_to="")
    # A calendar address would keep listing the person's appointments; the slots they held
    # are free (an anonymised client is archived: nobody is coming).
    CalendarFeed.objects.filter(client=stored, revoked_at__isnull=True).update(revoked_at=now)
    diary.free_upcoming(Booking.objects.filter(case__client=stored), reason="The client was anonymised.")
    # A failed send's error can quote the refused address.
    SentReminder.objects.filter(client=stored).update(recipient="", error="")

    signature = {"signed_name": name, "signed_ip": None, "signed_user_agent": ""}
    Consent.objects.filter(client=stored).update(**signature)
    Consent.history.filter(client_id=stored.pk).update(**signature)

    case_ids = list(Case.objects.filter(client=stored).values_list("pk", flat=True))
    acceptance = {"accepted_ip": None, "accepted_user_agent": ""}
    for manager in (TreatmentPlan.objects, TreatmentPlan.history):
        plans = manager.filter(case_id__in=case_ids)
        plans.exclude(accepted_name="").update(accepted_name=name, **acceptance)
        plans.filter(accepted_name="").update(**acceptance)

    if remove_photos:
        files: list[tuple[Any, str]] = []
        photos = list(Photo.objects.filter(case_id__in=case_ids))
        for photo in photos:
            files += _storage_names(photo)
            if photo.archived_at is None:
                photo.caption = ""
                photo.archived_at = now
                photo.archived_by = by
                photo.archive_reason = PHOTO_ARCHIVE_REASON
                photo._change_reason = "Anonymised"
                photo.save(update_fields=["caption", "archived_at", "archived_by", "archive_reason", "updated_at"])
        Photo.objects.filter(pk__in=[p.pk for p in photos]).update(caption="")
        Photo.history.filter(id__in=[p.pk for p in photos]).update(caption="")
        transaction.on_commit(lambda: _delete_files(files))
    return stored
