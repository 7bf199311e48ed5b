"""The Kirby–Desai scale for estimating laser tattoo-removal sessions.

Kirby W, Desai A, Desai T, Kartono F, Geeta P. "The Kirby-Desai Scale: A Proposed
Scale to Assess Tattoo-removal Treatments." J Clin Aesthet Dermatol. 2009;2(3):32-37.

Six parameters are scored and added; the total estimates the number of sessions
(about ±2.5). The range is 4 (Fitzpatrick I, head and neck, black only, amateur,
no scarring, no layering) to 26. SMP is always head and neck and shallow, so the scale
tends to over-estimate it: keep estimate and actual side by side (docs/domain.md#kirby-desai).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import models

UNCERTAINTY = 2.5
MINIMUM, MAXIMUM = 4, 26


class SkinTypePoints(models.IntegerChoices):
    I = 1, "Fitzpatrick I"  # noqa: E741
    II = 2, "Fitzpatrick II"
    III = 3, "Fitzpatrick III"
    IV = 4, "Fitzpatrick IV"
    V = 5, "Fitzpatrick V"
    VI = 6, "Fitzpatrick VI"


class LocationPoints(models.IntegerChoices):
    HEAD_NECK = 1, "Head and neck"
    UPPER_TRUNK = 2, "Upper trunk"
    LOWER_TRUNK = 3, "Lower trunk"
    PROXIMAL_EXTREMITY = 4, "Proximal extremity"
    DISTAL_EXTREMITY = 5, "Distal extremity"


class ColourPoints(models.IntegerChoices):
    BLACK_ONLY = 1, "Black only"
    MOSTLY_BLACK_SOME_RED = 2, "Mostly black with some red"
    BLACK_RED_SOME_OTHER = 3, "Mostly black and red with some other colours"
    MULTIPLE = 4, "Multiple colours"


class InkAmountPoints(models.IntegerChoices):
    AMATEUR = 1, "Amateur"
    MINIMAL = 2, "Minimal"
    MODERATE = 3, "Moderate"
    SIGNIFICANT = 4, "Significant"


class ScarringPoints(models.IntegerChoices):
    NONE = 0, "None"
    MINIMAL = 1, "Minimal"
    MODERATE = 3, "Moderate"
    SIGNIFICANT = 5, "Significant"


class LayeringPoints(models.IntegerChoices):
    NONE = 0, "None"
    LAYERED = 2, "Layered (cover-up)"


FITZPATRICK_POINTS = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}

PARAMETERS: dict[str, type[models.IntegerChoices]] = {
    "skin_type": SkinTypePoints,
    "location": LocationPoints,
    "colour": ColourPoints,
    "ink_amount": InkAmountPoints,
    "scarring": ScarringPoints,
    "layering": LayeringPoints,
}


@dataclass(frozen=True)
class Estimate:
    total: int

    @property
    def low(self) -> int:
        """Fewest sessions in the scale's ±2.5 band, rounded down (never below one)."""
        return max(1, math.floor(self.total - UNCERTAINTY))

    @property
    def high(self) -> int:
        return math.ceil(self.total + UNCERTAINTY)


def kirby_desai_score(
    *, skin_type: int, location: int, colour: int, ink_amount: int, scarring: int, layering: int
) -> Estimate:
    """Add the six Kirby–Desai sub-scores; ValueError names any value off the scale."""
    given = {
        "skin_type": skin_type,
        "location": location,
        "colour": colour,
        "ink_amount": ink_amount,
        "scarring": scarring,
        "layering": layering,
    }
    for name, value in given.items():
        allowed = PARAMETERS[name].values
        if value not in allowed:
            raise ValueError(f"{name.replace('_', ' ')} must be one of {allowed}, not {value!r}")
    return Estimate(total=sum(given.values()))
