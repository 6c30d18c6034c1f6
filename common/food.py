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


class Diet(models.TextChoices):
    VEGETARIAN = "vegetarian", "Vegetarian"
    VEGAN = "vegan", "Vegan"
    PESCATARIAN = "pescatarian", "Pescatarian"
    HALAL = "halal", "Halal"
    KOSHER = "kosher", "Kosher"
    GLUTEN_FREE = "gluten_free", "Gluten-free"
    DAIRY_FREE = "dairy_free", "Dairy-free"


class Allergen(models.TextChoices):
    CELERY = "celery", "Celery"
    GLUTEN = "gluten", "Cereals containing gluten"
    CRUSTACEANS = "crustaceans", "Crustaceans"
    EGGS = "eggs", "Eggs"
    FISH = "fish", "Fish"
    LUPIN = "lupin", "Lupin"
    MILK = "milk", "Milk"
    MOLLUSCS = "molluscs", "Molluscs"
    MUSTARD = "mustard", "Mustard"
    TREE_NUTS = "tree_nuts", "Tree nuts"
    PEANUTS = "peanuts", "Peanuts"
    SESAME = "sesame", "Sesame"
    SULPHITES = "sulphites", "Sulphites"
    SOYA = "soya", "Soya"


class Course(models.TextChoices):
    STARTER = "starter", "Starter"
    MAIN = "main", "Main"
    SIDE = "side", "Side"
    DESSERT = "dessert", "Dessert"
    DRINKS = "drinks", "Drinks"


COURSE_PLURALS = {
    Course.STARTER: "starters",
    Course.MAIN: "mains",
    Course.SIDE: "sides",
    Course.DESSERT: "desserts",
    Course.DRINKS: "drinks",
}

COURSE_SINGULARS = {
    Course.STARTER: "starter",
    Course.MAIN: "main",
    Course.SIDE: "side",
    Course.DESSERT: "dessert",
    Course.DRINKS: "drink",
}

# How a sentence names an allergen ("contains gluten", "allergic to gluten"):
# the label, lower-cased, except where the legal name reads badly in one.
ALLERGEN_NOUNS = {Allergen.GLUTEN: "gluten"}


def allergen_noun(code: str) -> str:
    return ALLERGEN_NOUNS.get(code, Allergen(code).label.lower())


def course_count(course: str, count: int) -> str:
    """ "1 drink", "3 desserts"."""
    noun = COURSE_SINGULARS[course] if count == 1 else COURSE_PLURALS[course]
    return f"{count} {noun}"


# A dish that suits a stricter diet suits the looser ones it implies.
IMPLIED_DIETS = {
    Diet.VEGAN: {Diet.VEGETARIAN, Diet.DAIRY_FREE, Diet.PESCATARIAN},
    Diet.VEGETARIAN: {Diet.PESCATARIAN},
}


def _validate_codes(value, choices: type[models.TextChoices], what: str) -> None:
    """A list of known codes, as model-field validators need."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError(f"Choose {what} from the list.", code="invalid_codes")
    unknown = [code for code in value if code not in choices.values]
    if unknown:
        raise ValidationError(
            "Unknown %(what)s: %(codes)s.",
            code="unknown_codes",
            params={"what": what, "codes": ", ".join(code[:40] for code in unknown[:5])},
        )


def validate_diets(value) -> None:
    _validate_codes(value, Diet, "diets")


def validate_allergens(value) -> None:
    _validate_codes(value, Allergen, "allergens")


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
        return [Diet(code).label for code in sorted(self.diets)]

    @property
    def allergy_labels(self) -> list[str]:
        return [Allergen(code).label for code in sorted(self.allergies)]

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
        conflicts.append(f"contains {allergen_noun(allergen)}")
    if needs.allergies - allergens and not allergens_complete:
        unknowns.append("allergens not confirmed")
    for diet in sorted(needs.diets):
        if not suits:
            unknowns.append("diets not stated")
            break
        if diet not in suits:
            conflicts.append(f"not {Diet(diet).label.lower()}")
    if conflicts:
        return Verdict("conflict", tuple(conflicts))
    if unknowns:
        return Verdict("unknown", tuple(unknowns))
    return Verdict("ok")


def labels(choices: type[models.TextChoices], codes: Iterable[str]) -> list[str]:
    return [choices(code).label for code in codes if code in choices.values]
