"""Diets, allergens and the one rule that says whether a dish suits a person.

Allergens are the 14 that EU food law (Regulation 1169/2011, Annex II) names.
A dish's tags are what its cook declared: an allergen list that was not
confirmed complete, or no diet tags at all, makes the answer "unknown" — never
"safe".
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Diet(models.TextChoices):
    VEGETARIAN = "vegetarian", _("Vegetarian")
    VEGAN = "vegan", _("Vegan")
    PESCATARIAN = "pescatarian", _("Pescatarian")
    HALAL = "halal", _("Halal")
    KOSHER = "kosher", _("Kosher")
    GLUTEN_FREE = "gluten_free", _("Gluten-free")
    DAIRY_FREE = "dairy_free", _("Dairy-free")


class Allergen(models.TextChoices):
    CELERY = "celery", _("Celery")
    GLUTEN = "gluten", _("Cereals containing gluten")
    CRUSTACEANS = "crustaceans", _("Crustaceans")
    EGGS = "eggs", _("Eggs")
    FISH = "fish", _("Fish")
    LUPIN = "lupin", _("Lupin")
    MILK = "milk", _("Milk")
    MOLLUSCS = "molluscs", _("Molluscs")
    MUSTARD = "mustard", _("Mustard")
    TREE_NUTS = "tree_nuts", _("Tree nuts")
    PEANUTS = "peanuts", _("Peanuts")
    SESAME = "sesame", _("Sesame")
    SULPHITES = "sulphites", _("Sulphites")
    SOYA = "soya", _("Soya")


class Course(models.TextChoices):
    STARTER = "starter", _("Starter")
    MAIN = "main", _("Main")
    SIDE = "side", _("Side")
    DESSERT = "dessert", _("Dessert")
    DRINKS = "drinks", _("Drinks")


# How a sentence names a course's dishes: "No desserts are wanted any more".
COURSE_PLURALS = {
    Course.STARTER: pgettext_lazy("dishes of a course", "starters"),
    Course.MAIN: pgettext_lazy("dishes of a course", "mains"),
    Course.SIDE: pgettext_lazy("dishes of a course", "sides"),
    Course.DESSERT: pgettext_lazy("dishes of a course", "desserts"),
    Course.DRINKS: pgettext_lazy("dishes of a course", "drinks"),
}

# How a sentence names an allergen ("contains gluten", "allergic to gluten"):
# not the legal name, which reads badly in one.
ALLERGEN_NOUNS = {
    Allergen.CELERY: pgettext_lazy("allergen in a sentence: contains …", "celery"),
    Allergen.GLUTEN: pgettext_lazy("allergen in a sentence: contains …", "gluten"),
    Allergen.CRUSTACEANS: pgettext_lazy("allergen in a sentence: contains …", "crustaceans"),
    Allergen.EGGS: pgettext_lazy("allergen in a sentence: contains …", "eggs"),
    Allergen.FISH: pgettext_lazy("allergen in a sentence: contains …", "fish"),
    Allergen.LUPIN: pgettext_lazy("allergen in a sentence: contains …", "lupin"),
    Allergen.MILK: pgettext_lazy("allergen in a sentence: contains …", "milk"),
    Allergen.MOLLUSCS: pgettext_lazy("allergen in a sentence: contains …", "molluscs"),
    Allergen.MUSTARD: pgettext_lazy("allergen in a sentence: contains …", "mustard"),
    Allergen.TREE_NUTS: pgettext_lazy("allergen in a sentence: contains …", "tree nuts"),
    Allergen.PEANUTS: pgettext_lazy("allergen in a sentence: contains …", "peanuts"),
    Allergen.SESAME: pgettext_lazy("allergen in a sentence: contains …", "sesame"),
    Allergen.SULPHITES: pgettext_lazy("allergen in a sentence: contains …", "sulphites"),
    Allergen.SOYA: pgettext_lazy("allergen in a sentence: contains …", "soya"),
}

# How a sentence names a diet a dish doesn't suit: "not vegetarian".
NOT_SUITED = {
    Diet.VEGETARIAN: pgettext_lazy("a dish that doesn't suit a diet", "not vegetarian"),
    Diet.VEGAN: pgettext_lazy("a dish that doesn't suit a diet", "not vegan"),
    Diet.PESCATARIAN: pgettext_lazy("a dish that doesn't suit a diet", "not pescatarian"),
    Diet.HALAL: pgettext_lazy("a dish that doesn't suit a diet", "not halal"),
    Diet.KOSHER: pgettext_lazy("a dish that doesn't suit a diet", "not kosher"),
    Diet.GLUTEN_FREE: pgettext_lazy("a dish that doesn't suit a diet", "not gluten-free"),
    Diet.DAIRY_FREE: pgettext_lazy("a dish that doesn't suit a diet", "not dairy-free"),
}


def allergen_noun(code: str) -> str:
    return str(ALLERGEN_NOUNS.get(code, Allergen(code).label))


def course_count(course: str, count: int) -> str:
    """ "1 drink", "3 desserts"."""
    values = {"count": count}
    match course:
        case Course.STARTER:
            return ngettext("%(count)d starter", "%(count)d starters", count) % values
        case Course.MAIN:
            return ngettext("%(count)d main", "%(count)d mains", count) % values
        case Course.SIDE:
            return ngettext("%(count)d side", "%(count)d sides", count) % values
        case Course.DESSERT:
            return ngettext("%(count)d dessert", "%(count)d desserts", count) % values
        case _:
            return ngettext("%(count)d drink", "%(count)d drinks", count) % values


# A dish that suits a stricter diet suits the looser ones it implies.
IMPLIED_DIETS = {
    Diet.VEGAN: {Diet.VEGETARIAN, Diet.DAIRY_FREE, Diet.PESCATARIAN},
    Diet.VEGETARIAN: {Diet.PESCATARIAN},
}


def _validate_codes(value, choices: type[models.TextChoices], what: str) -> None:
    """A list of known codes, as model-field validators need."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError(
            _("Choose %(what)s from the list."), code="invalid_codes", params={"what": what}
        )
    unknown = [code for code in value if code not in choices.values]
    if unknown:
        raise ValidationError(
            _("Unknown %(what)s: %(codes)s."),
            code="unknown_codes",
            params={"what": what, "codes": ", ".join(code[:40] for code in unknown[:5])},
        )


def validate_diets(value) -> None:
    _validate_codes(value, Diet, _("diets"))


def validate_allergens(value) -> None:
    _validate_codes(value, Allergen, _("allergens"))


def expand_diets(diets: Iterable[str]) -> set[str]:
    expanded = set(diets)
    for diet in list(expanded):
        expanded |= IMPLIED_DIETS.get(diet, set())
    return expanded


@dataclass(frozen=True)
class Needs:
    """What one person (or a guest's plus-ones, together) can't or won't eat."""

    who: str
    diets: frozenset[str] = frozenset()
    allergies: frozenset[str] = frozenset()

    @property
    def any(self) -> bool:
        return bool(self.diets or self.allergies)

    @property
    def diet_labels(self) -> list[str]:
        return [str(Diet(code).label) for code in sorted(self.diets)]

    @property
    def allergy_labels(self) -> list[str]:
        return [str(Allergen(code).label) for code in sorted(self.allergies)]

    @property
    def allergy_nouns(self) -> list[str]:
        """As a sentence names them: "allergic to gluten, milk"."""
        return [allergen_noun(code) for code in sorted(self.allergies)]


@dataclass(frozen=True)
class Verdict:
    """ "ok", "unknown" (not enough tags to say) or "conflict", with reasons."""

    status: str
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def dish_verdict(
    *, allergens: Iterable[str], suits: Iterable[str], allergens_complete: bool, needs: Needs
) -> Verdict:
    """Whether a dish suits a person. Conflicts (an allergen they have, a diet
    the dish does not suit) outrank unknowns (allergens not confirmed complete,
    no diet tags)."""
    allergens, suits = set(allergens), expand_diets(suits)
    conflicts: list[str] = []
    unknowns: list[str] = []
    for allergen in sorted(needs.allergies & allergens):
        conflicts.append(gettext("contains %(allergen)s") % {"allergen": allergen_noun(allergen)})
    if needs.allergies - allergens and not allergens_complete:
        unknowns.append(gettext("allergens not confirmed"))
    for diet in sorted(needs.diets):
        if not suits:
            unknowns.append(gettext("diets not stated"))
            break
        if diet not in suits:
            conflicts.append(str(NOT_SUITED[diet]))
    if conflicts:
        return Verdict("conflict", tuple(conflicts))
    if unknowns:
        return Verdict("unknown", tuple(unknowns))
    return Verdict("ok")


def labels(choices: type[models.TextChoices], codes: Iterable[str]) -> list[str]:
    return [str(choices(code).label) for code in codes if code in choices.values]
