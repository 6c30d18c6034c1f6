"""The one rule that says whether a dish suits a person (`dish_verdict`), the
needs it is asked about (a guest's own, their plus-ones'), and the validators
that keep unknown diet and allergen codes out of the database."""

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import UserFactory
from common.food import (
    Allergen,
    Diet,
    Needs,
    Verdict,
    dish_verdict,
    expand_diets,
    validate_allergens,
    validate_diets,
)
from parties.menu import needs_of, needs_of_rsvp
from parties.models import RSVP, Dish, RSVPStatus
from parties.tests.factories import DinnerPartyFactory

pytestmark = pytest.mark.django_db

ALLERGENS = list(Allergen)
DIETS = list(Diet)


def verdict(*, allergens=(), suits=(), complete=False, diets=(), allergies=()) -> Verdict:
    return dish_verdict(
        allergens=allergens,
        suits=suits,
        allergens_complete=complete,
        needs=Needs(who="Ben", diets=frozenset(diets), allergies=frozenset(allergies)),
    )


def not_implying(diet: str) -> list[str]:
    """Every diet tag that does not (even through the implied diets) suit `diet`."""
    return [other for other in Diet.values if diet not in expand_diets([other])]


# --- The lists themselves ---------------------------------------------------------


def test_the_fourteen_eu_allergens_and_seven_diets():
    assert len(ALLERGENS) == 14
    assert set(Allergen.values) == {
        "celery",
        "gluten",
        "crustaceans",
        "eggs",
        "fish",
        "lupin",
        "milk",
        "molluscs",
        "mustard",
        "tree_nuts",
        "peanuts",
        "sesame",
        "sulphites",
        "soya",
    }
    assert set(Diet.values) == {
        "vegetarian",
        "vegan",
        "pescatarian",
        "halal",
        "kosher",
        "gluten_free",
        "dairy_free",
    }


# --- Allergens ----------------------------------------------------------------------

# Where the legal name reads badly in a sentence ("contains cereals containing gluten").
SHORT_NAMES = {Allergen.GLUTEN: "gluten"}


def test_gluten_reads_as_gluten_in_a_warning():
    result = verdict(allergens=["gluten"], complete=True, allergies=["gluten"])
    assert result.reasons == ("contains gluten",)


@pytest.mark.parametrize("allergen", ALLERGENS, ids=lambda a: a.value)
@pytest.mark.parametrize("complete", [True, False], ids=["confirmed", "not-confirmed"])
def test_every_allergen_conflicts_for_someone_allergic_to_it(allergen, complete):
    result = verdict(allergens=[allergen.value], complete=complete, allergies=[allergen.value])

    assert result.status == "conflict"
    assert not result.ok
    assert result.reasons == (f"contains {SHORT_NAMES.get(allergen, allergen.label.lower())}",)


@pytest.mark.parametrize("allergen", ALLERGENS, ids=lambda a: a.value)
def test_every_allergen_is_named_among_others_the_dish_contains(allergen):
    result = verdict(allergens=Allergen.values, complete=True, allergies=[allergen.value])

    assert result.status == "conflict"
    assert result.reasons == (f"contains {SHORT_NAMES.get(allergen, allergen.label.lower())}",)


@pytest.mark.parametrize("allergen", ALLERGENS, ids=lambda a: a.value)
def test_a_dish_confirmed_free_of_an_allergen_is_ok(allergen):
    others = [code for code in Allergen.values if code != allergen.value]

    result = verdict(allergens=others, complete=True, allergies=[allergen.value])

    assert result == Verdict("ok")
    assert result.ok


@pytest.mark.parametrize("allergen", ALLERGENS, ids=lambda a: a.value)
def test_an_allergen_not_listed_on_an_unconfirmed_list_is_unknown(allergen):
    others = [code for code in Allergen.values if code != allergen.value][:3]

    result = verdict(allergens=others, complete=False, allergies=[allergen.value])

    assert result.status == "unknown"
    assert result.reasons == ("allergens not confirmed",)


def test_several_allergies_each_give_a_reason_in_a_fixed_order():
    result = verdict(
        allergens=["milk", "eggs", "peanuts"], complete=True, allergies=["peanuts", "eggs", "fish"]
    )

    assert result.status == "conflict"
    assert result.reasons == ("contains eggs", "contains peanuts")


# --- Diets --------------------------------------------------------------------------


@pytest.mark.parametrize("diet", DIETS, ids=lambda d: d.value)
def test_every_diet_conflicts_with_a_tagged_dish_that_does_not_suit_it(diet):
    suits = not_implying(diet.value)
    assert suits  # a non-empty list of tags, none of which covers the diet

    result = verdict(suits=suits, complete=True, diets=[diet.value])

    assert result.status == "conflict"
    assert result.reasons == (f"not {diet.label.lower()}",)


@pytest.mark.parametrize("diet", DIETS, ids=lambda d: d.value)
def test_every_diet_conflicts_with_a_single_other_tag(diet):
    other = Diet.KOSHER if diet == Diet.HALAL else Diet.HALAL

    result = verdict(suits=[other], complete=True, diets=[diet.value])

    assert result.status == "conflict"
    assert result.reasons == (f"not {diet.label.lower()}",)


@pytest.mark.parametrize("diet", DIETS, ids=lambda d: d.value)
def test_every_diet_is_ok_with_a_dish_tagged_for_it(diet):
    assert verdict(suits=[diet.value], complete=True, diets=[diet.value]) == Verdict("ok")
    assert verdict(suits=Diet.values, complete=True, diets=[diet.value]) == Verdict("ok")


@pytest.mark.parametrize("diet", DIETS, ids=lambda d: d.value)
def test_a_diet_alone_does_not_care_whether_allergens_are_confirmed(diet):
    assert verdict(suits=[diet.value], complete=False, diets=[diet.value]) == Verdict("ok")


@pytest.mark.parametrize("implied", [Diet.VEGETARIAN, Diet.DAIRY_FREE, Diet.PESCATARIAN])
def test_a_vegan_dish_suits_the_diets_veganism_implies(implied):
    assert verdict(suits=[Diet.VEGAN], complete=True, diets=[implied]) == Verdict("ok")


@pytest.mark.parametrize("diet", [Diet.HALAL, Diet.KOSHER, Diet.GLUTEN_FREE])
def test_a_vegan_dish_does_not_claim_other_diets(diet):
    result = verdict(suits=[Diet.VEGAN], complete=True, diets=[diet])

    assert result.status == "conflict"


def test_a_vegetarian_dish_suits_pescatarians_but_not_vegans_or_dairy_free():
    assert verdict(suits=[Diet.VEGETARIAN], complete=True, diets=[Diet.PESCATARIAN]).ok
    for diet in (Diet.VEGAN, Diet.DAIRY_FREE):
        result = verdict(suits=[Diet.VEGETARIAN], complete=True, diets=[diet])
        assert result.status == "conflict", diet


def test_a_pescatarian_dish_suits_no_vegetarian():
    result = verdict(suits=[Diet.PESCATARIAN], complete=True, diets=[Diet.VEGETARIAN])

    assert result == Verdict("conflict", ("not vegetarian",))


def test_every_unsuited_diet_gives_a_reason():
    result = verdict(suits=[Diet.HALAL], complete=True, diets=[Diet.VEGAN, Diet.GLUTEN_FREE])

    assert result == Verdict("conflict", ("not gluten-free", "not vegan"))


# --- Dishes with missing tags -------------------------------------------------------


@pytest.mark.parametrize(
    "needs",
    [{"diets": [diet.value]} for diet in DIETS]
    + [{"allergies": [allergen.value]} for allergen in ALLERGENS],
    ids=[d.value for d in DIETS] + [a.value for a in ALLERGENS],
)
def test_a_dish_with_no_tags_is_unknown_never_ok_for_anyone_with_needs(needs):
    result = verdict(allergens=[], suits=[], complete=False, **needs)

    assert result.status == "unknown"
    assert not result.ok


def test_a_dish_with_no_tags_is_ok_for_someone_with_no_needs():
    assert verdict(allergens=[], suits=[], complete=False) == Verdict("ok")
    assert verdict(allergens=["milk"], suits=[Diet.HALAL], complete=False) == Verdict("ok")


def test_a_dish_with_no_diet_tags_is_unknown_for_a_diet_even_with_allergens_confirmed():
    result = verdict(allergens=[], suits=[], complete=True, diets=[Diet.VEGETARIAN, Diet.HALAL])

    assert result == Verdict("unknown", ("diets not stated",))


def test_both_kinds_of_unknown_are_reported():
    result = verdict(allergens=["milk"], complete=False, diets=[Diet.VEGAN], allergies=["eggs"])

    assert result == Verdict("unknown", ("allergens not confirmed", "diets not stated"))


def test_conflicts_outrank_unknowns():
    # Allergens not confirmed and no diet tags: unknown for eggs and veganism,
    # but the milk it does declare is a conflict, and that is what counts.
    result = verdict(
        allergens=["milk"], suits=[], complete=False, diets=[Diet.VEGAN], allergies=["milk", "eggs"]
    )

    assert result == Verdict("conflict", ("contains milk",))


def test_an_unsuited_diet_outranks_unconfirmed_allergens():
    result = verdict(allergens=[], suits=[Diet.HALAL], complete=False, diets=[Diet.KOSHER])
    assert result == Verdict("conflict", ("not kosher",))

    result = verdict(allergens=[], suits=[Diet.HALAL], complete=False, allergies=["soya"])
    assert result == Verdict("unknown", ("allergens not confirmed",))


# --- Whose needs: a guest's, and their plus-ones' -----------------------------------


def rsvp_with(guest, *, plus_ones=0, diets=(), allergies=()) -> RSVP:
    return RSVP(
        party=DinnerPartyFactory(),
        guest=guest,
        status=RSVPStatus.GOING,
        plus_ones=plus_ones,
        plus_one_diets=list(diets),
        plus_one_allergies=list(allergies),
    )


def dish_verdicts(dish: Dish, needs: list[Needs]) -> dict[str, Verdict]:
    return {
        n.who: dish_verdict(
            allergens=dish.allergens,
            suits=dish.suits,
            allergens_complete=dish.allergens_complete,
            needs=n,
        )
        for n in needs
    }


def test_a_users_needs_come_from_their_profile():
    user = UserFactory.build(
        first_name="Ben", last_name="Okafor", diets=["vegan"], allergies=["sesame"]
    )

    assert needs_of(user) == Needs(
        who="Ben Okafor", diets=frozenset({"vegan"}), allergies=frozenset({"sesame"})
    )
    assert needs_of(user).diet_labels == ["Vegan"]
    assert needs_of(user).allergy_labels == ["Sesame"]


def test_a_plus_ones_needs_are_checked_separately_from_the_guests():
    guest = UserFactory(first_name="Ben", last_name="", diets=["vegan"], allergies=[])
    rsvp = rsvp_with(guest, plus_ones=1, allergies=["eggs"])
    # A vegan dish glazed with egg: the cook's own (contradictory) words are what count.
    vegan_omelette = Dish(
        name="Glazed buns", allergens=["eggs"], suits=["vegan"], allergens_complete=True
    )

    needs = needs_of_rsvp(rsvp)

    assert [n.who for n in needs] == ["Ben", "Ben's plus-one"]
    assert needs[1] == Needs(who="Ben's plus-one", allergies=frozenset({"eggs"}))
    verdicts = dish_verdicts(vegan_omelette, needs)
    assert verdicts["Ben"] == Verdict("ok")
    assert verdicts["Ben's plus-one"] == Verdict("conflict", ("contains eggs",))


def test_a_dish_for_the_plus_one_may_not_suit_the_guest():
    guest = UserFactory(first_name="Chloé", last_name="", allergies=["tree_nuts"])
    rsvp = rsvp_with(guest, plus_ones=2, diets=["vegetarian"])
    pecan_salad = Dish(
        name="Pecan salad", allergens=["tree_nuts"], suits=["vegan"], allergens_complete=True
    )

    verdicts = dish_verdicts(pecan_salad, needs_of_rsvp(rsvp))

    assert verdicts == {
        "Chloé": Verdict("conflict", ("contains tree nuts",)),
        "Chloé's plus-ones": Verdict("ok"),
    }


def test_plus_ones_with_no_stated_needs_or_no_plus_ones_add_no_one():
    guest = UserFactory(first_name="Dev", last_name="", diets=["gluten_free"])

    assert [n.who for n in needs_of_rsvp(rsvp_with(guest, plus_ones=2))] == ["Dev"]
    leftover = rsvp_with(guest, plus_ones=0, diets=["vegan"], allergies=["milk"])
    assert [n.who for n in needs_of_rsvp(leftover)] == ["Dev"]


# --- Validators -----------------------------------------------------------------------


@pytest.mark.parametrize("validate", [validate_diets, validate_allergens])
def test_validators_accept_empty_lists(validate):
    validate([])


def test_validators_accept_every_known_code():
    validate_diets(Diet.values)
    validate_allergens(Allergen.values)


@pytest.mark.parametrize(
    ("validate", "value", "named"),
    [
        (validate_diets, ["vegan", "paleo"], "Unknown diets: paleo."),
        (validate_diets, ["peanuts"], "Unknown diets: peanuts."),  # an allergen is not a diet
        (validate_diets, ["Vegan"], "Unknown diets: Vegan."),  # codes, not labels
        (validate_allergens, ["milk", "strawberries"], "Unknown allergens: strawberries."),
        (validate_allergens, ["vegan"], "Unknown allergens: vegan."),
        (validate_allergens, [""], "Unknown allergens: ."),
    ],
)
def test_validators_reject_unknown_codes(validate, value, named):
    with pytest.raises(ValidationError) as caught:
        validate(value)

    assert caught.value.code == "unknown_codes"
    assert caught.value.messages == [named]


def test_unknown_codes_are_cut_short_in_the_message():
    with pytest.raises(ValidationError) as caught:
        validate_allergens(["x" * 10_000, *[f"bad{i}" for i in range(20)]])

    message = caught.value.messages[0]
    assert len(message) < 120
    assert message == f"Unknown allergens: {'x' * 40}, bad0, bad1, bad2, bad3."


@pytest.mark.parametrize("validate", [validate_diets, validate_allergens])
@pytest.mark.parametrize(
    "value",
    ["vegan", "milk", None, 3, {"vegan": True}, ("vegan",), {"milk"}],
    ids=["str-diet", "str-allergen", "none", "int", "dict", "tuple", "set"],
)
def test_validators_reject_non_lists(validate, value):
    with pytest.raises(ValidationError) as caught:
        validate(value)

    assert caught.value.code == "invalid_codes"
    assert "from the list" in caught.value.messages[0]


@pytest.mark.parametrize("validate", [validate_diets, validate_allergens])
@pytest.mark.parametrize(
    "value", [[1], [None], [["vegan"]], [{"code": "milk"}], ["milk", 2]], ids=str
)
def test_validators_reject_non_strings(validate, value):
    with pytest.raises(ValidationError) as caught:
        validate(value)

    assert caught.value.code == "invalid_codes"
