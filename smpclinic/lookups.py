"""Lookup rows for multi-valued choices (see smpclinic.models.ChoiceLookup)."""


def lookup_models():
    from artists.models import Specialisation
    from cases.models import AdverseEventKind, CorrectionOption, RegretReason, ZoneLookup

    return [Specialisation, ZoneLookup, RegretReason, CorrectionOption, AdverseEventKind]


def sync_all_lookups() -> None:
    for model in lookup_models():
        model.sync()
