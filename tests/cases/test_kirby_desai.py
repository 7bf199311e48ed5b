"""The Kirby–Desai scale (Kirby et al., J Clin Aesthet Dermatol, 2009) and the plan's copy of it."""

from __future__ import annotations

import itertools

import pytest

from cases import kirby_desai as kd
from cases.kirby_desai import Estimate, kirby_desai_score
from cases.models import TreatmentPlan
from cases.models.plans import KD_FIELDS
from tests import factories

LOWEST = {"skin_type": 1, "location": 1, "colour": 1, "ink_amount": 1, "scarring": 0, "layering": 0}
HIGHEST = {"skin_type": 6, "location": 5, "colour": 4, "ink_amount": 4, "scarring": 5, "layering": 2}
# Fitzpatrick III, head and neck, black only, moderate ink, no scarring, no layering.
TYPICAL_SMP = {"skin_type": 3, "location": 1, "colour": 1, "ink_amount": 3, "scarring": 0, "layering": 0}
PLAN_SCORES = {f"kd_{name}": value for name, value in TYPICAL_SMP.items()}


def test_minimum_corner_is_4():
    estimate = kirby_desai_score(**LOWEST)
    assert estimate.total == kd.MINIMUM == 4
    # The ±2.5 band never goes below one session.
    assert (estimate.low, estimate.high) == (1, 7)


def test_maximum_corner_is_26():
    estimate = kirby_desai_score(**HIGHEST)
    assert estimate.total == kd.MAXIMUM == 26
    assert (estimate.low, estimate.high) == (23, 29)


def test_worked_example_fitzpatrick_iii_smp():
    estimate = kirby_desai_score(**TYPICAL_SMP)
    assert estimate.total == 3 + 1 + 1 + 3 + 0 + 0 == 8
    # 8 - 2.5 = 5.5 rounds down, 8 + 2.5 = 10.5 rounds up: the band is widened, not narrowed.
    assert (estimate.low, estimate.high) == (5, 11)


@pytest.mark.parametrize(("total", "low", "high"), [(4, 1, 7), (5, 2, 8), (6, 3, 9), (13, 10, 16)])
def test_band_rounding(total, low, high):
    assert (Estimate(total).low, Estimate(total).high) == (low, high)


def test_every_combination_is_the_sum_and_within_4_to_26():
    names = list(kd.PARAMETERS)
    totals = set()
    for values in itertools.product(*(kd.PARAMETERS[name].values for name in names)):
        total = kirby_desai_score(**dict(zip(names, values, strict=True))).total
        assert total == sum(values)
        totals.add(total)
    assert min(totals) == kd.MINIMUM and max(totals) == kd.MAXIMUM


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("scarring", 2),
        ("scarring", 4),
        ("layering", 1),
        ("skin_type", 0),
        ("skin_type", 7),
        ("location", 6),
        ("colour", 0),
        ("ink_amount", 5),
        ("skin_type", "3"),
    ],
)
def test_off_scale_value_is_refused_by_name(name, value):
    with pytest.raises(ValueError, match=name.replace("_", " ")):
        kirby_desai_score(**{**TYPICAL_SMP, name: value})


def test_plan_save_stores_the_total(db):
    plan = factories.TreatmentPlanFactory(
        kd_skin_type=6, kd_location=1, kd_colour=1, kd_ink_amount=4, kd_scarring=3, kd_layering=2
    )
    assert plan.kd_total == 17
    assert TreatmentPlan.objects.get(pk=plan.pk).kd_total == 17
    assert plan.kirby_desai() == Estimate(17)


def test_plan_save_recomputes_the_total_after_a_change(db):
    plan = factories.TreatmentPlanFactory()
    assert plan.kd_total == 8

    plan.kd_scarring = 5
    plan.save()

    assert TreatmentPlan.objects.get(pk=plan.pk).kd_total == 13


@pytest.mark.parametrize("missing", KD_FIELDS)
def test_plan_has_no_estimate_when_a_subscore_is_missing(missing):
    assert TreatmentPlan(**PLAN_SCORES).kirby_desai() == Estimate(8)
    assert TreatmentPlan(**{**PLAN_SCORES, missing: None}).kirby_desai() is None


def test_plan_save_stores_no_total_without_subscores(db):
    plan = factories.TreatmentPlanFactory.build(**dict.fromkeys(KD_FIELDS), kd_total=99)
    plan.case = factories.CaseFactory()

    plan.save()  # whatever kd_total held, save() recomputes it

    assert plan.kd_total is None
    assert TreatmentPlan.objects.get(pk=plan.pk).kd_total is None


def test_plan_with_an_off_scale_subscore_has_no_estimate():
    # No estimate rather than an exception: the database constraint refuses the row.
    assert TreatmentPlan(**{**PLAN_SCORES, "kd_scarring": 2}).kirby_desai() is None
