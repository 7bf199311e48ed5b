from django.template import Context, Template

from tests import factories


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_person_prefers_the_full_name(db):
    user = factories.UserFactory(username="jdoe", first_name="Jane", last_name="Doe")
    assert render("{{ user|person }}", user=user) == "Jane Doe"


def test_person_falls_back_to_the_username(db):
    user = factories.UserFactory(username="jdoe", first_name="", last_name="")
    assert render("{{ user|person }}", user=user) == "jdoe"


def test_person_of_nobody_is_a_dash_or_the_given_text():
    """A plan submitted by a since-removed user must still render (it used to raise)."""
    assert render("{{ user|person }}", user=None) == "—"
    assert render('{{ user|person:"nobody" }}', user=None) == "nobody"


def test_money_is_one_format_for_staff_and_clients():
    from decimal import Decimal

    assert render('{{ amount|money:"GBP" }}', amount=Decimal("2450")) == "GBP 2,450.00"
    assert render('{{ amount|money:"EUR" }}', amount=Decimal("1234567.5")) == "EUR 1,234,567.50"
    assert render("{{ amount|money }}", amount=Decimal("0")) == "0.00"
    assert render('{{ amount|money:"GBP" }}', amount=None) == ""


def test_options_lists_a_select_field_with_the_chosen_value_selected():
    from django import forms

    from smpclinic.templatetags.clinic import options

    class Pick(forms.Form):
        kind = forms.ChoiceField(choices=[("", "Every kind"), ("laser", "Laser"), ("saline", "Saline")], required=False)

    assert options(Pick({"kind": "laser"})["kind"]) == [
        ("", "Every kind", False),
        ("laser", "Laser", True),
        ("saline", "Saline", False),
    ]
    # Unbound: the initial value; nothing asked: the empty choice.
    assert [selected for _, _, selected in options(Pick(initial={"kind": "saline"})["kind"])] == [False, False, True]
    assert [selected for _, _, selected in options(Pick()["kind"])] == [True, False, False]
    # A value that is no choice selects nothing (the browser shows the first).
    assert not any(selected for _, _, selected in options(Pick({"kind": "tattoo"})["kind"]))
