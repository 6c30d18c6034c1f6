"""The menu as people read it: dishes by course, what is still wanted, and who
each dish suits. Pure functions over rows the view has already loaded, so the
party page's query count stays fixed however long the menu is."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext, ngettext

from common.food import Allergen, Course, Diet, Needs, Verdict, course_count, dish_verdict
from parties.models import RSVP, Dish, PotluckSlot


def needs_of(user) -> Needs:
    return Needs(
        who=user.display_name, diets=frozenset(user.diets), allergies=frozenset(user.allergies)
    )


def needs_of_rsvp(rsvp: RSVP) -> list[Needs]:
    """The guest's own needs, and their plus-ones' (stated together) if any."""
    needs = [needs_of(rsvp.guest)]
    if rsvp.plus_ones and (rsvp.plus_one_diets or rsvp.plus_one_allergies):
        needs.append(
            Needs(
                who=rsvp.guest.display_name
                + ngettext("'s plus-one", "'s plus-ones", rsvp.plus_ones),
                diets=frozenset(rsvp.plus_one_diets),
                allergies=frozenset(rsvp.plus_one_allergies),
            )
        )
    return needs


def verdict(dish: Dish, needs: Needs) -> Verdict:
    return dish_verdict(
        allergens=dish.allergens,
        suits=dish.suits,
        allergens_complete=dish.allergens_complete,
        needs=needs,
    )


@dataclass
class DishLine:
    dish: Dish
    allergen_labels: list[str]
    diet_labels: list[str]
    for_me: Verdict | None = None  # the viewer's own warning, when they have needs
    clashes: list[tuple[Needs, Verdict]] = field(default_factory=list)  # hosts only


@dataclass
class CourseMenu:
    course: str
    label: str
    lines: list[DishLine]
    wanted_left: int

    @property
    def wanted_text(self) -> str:
        if not self.wanted_left:
            return ""
        return gettext("%(dishes)s wanted") % {
            "dishes": course_count(self.course, self.wanted_left)
        }


def build_menu(
    *,
    dishes: Iterable[Dish],
    slots: Iterable[PotluckSlot],
    viewer_needs: list[Needs],
    table_needs: list[Needs] | None,
) -> list[CourseMenu]:
    """Dishes by course with allergen/diet labels, what is still wanted, the
    viewer's own warnings and, for hosts (`table_needs` given), every clash
    with the guests at the table."""
    dishes = list(dishes)
    claimed = {dish.slot_id for dish in dishes if dish.slot_id}
    free_slots: dict[str, int] = {}
    for slot in slots:
        if slot.pk not in claimed:
            free_slots[slot.course] = free_slots.get(slot.course, 0) + 1
    menu = []
    for course, label in Course.choices:
        lines = []
        for dish in (d for d in dishes if d.course == course):
            line = DishLine(
                dish=dish,
                allergen_labels=[str(Allergen(code).label) for code in dish.allergens],
                diet_labels=[str(Diet(code).label) for code in dish.suits],
            )
            mine = [verdict(dish, needs) for needs in viewer_needs if needs.any]
            worst = next((v for v in mine if v.status == "conflict"), None) or next(
                (v for v in mine if v.status == "unknown"), None
            )
            line.for_me = worst
            if table_needs is not None:
                line.clashes = [
                    (needs, v)
                    for needs in table_needs
                    if needs.any and (v := verdict(dish, needs)).status != "ok"
                ]
            lines.append(line)
        if lines or free_slots.get(course):
            menu.append(
                CourseMenu(
                    course=course, label=label, lines=lines, wanted_left=free_slots.get(course, 0)
                )
            )
    return menu


def coverage(*, dishes: Iterable[Dish], table_needs: list[Needs]) -> list[tuple[Needs, dict]]:
    """For each person with needs: per course on the menu, does at least one dish suit them?"""
    dishes = list(dishes)
    courses = [course for course in Course.values if any(d.course == course for d in dishes)]
    rows = []
    for needs in table_needs:
        if not needs.any:
            continue
        rows.append(
            (
                needs,
                {
                    str(Course(course).label): any(
                        verdict(dish, needs).ok for dish in dishes if dish.course == course
                    )
                    for course in courses
                },
            )
        )
    return rows


def suggested_slots(head_count: int) -> dict[str, int]:
    """A starting point for a potluck: roughly one dish per course for every
    six people (sides and drinks a little more often); the host edits it."""

    def per(people: int) -> int:
        return max(1, -(-head_count // people))  # ceiling division

    return {
        Course.STARTER: per(6),
        Course.MAIN: per(6),
        Course.SIDE: per(4),
        Course.DESSERT: per(6),
        Course.DRINKS: per(5),
    }
