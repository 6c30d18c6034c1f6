"""A party's guest list as its hosts take it away: a CSV file and a printable
sheet (parties.views.hosts), and the admin's CSV export. Pure functions over rows
loaded in a fixed number of queries, however many guests there are."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import StringIO

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from common.food import Allergen, Course, Diet, labels
from parties.models import RSVP, DinnerParty, Dish, RSVPStatus

# Going first, then who might still come, then who can't.
STATUS_ORDER = (RSVPStatus.GOING, RSVPStatus.WAITLISTED, RSVPStatus.MAYBE, RSVPStatus.DECLINED)
# Hosts see diets and allergies only for guests at the table or waiting for a seat.
NEEDS_SHOWN_FOR = {RSVPStatus.GOING, RSVPStatus.WAITLISTED}

CSV_HEADER = [
    _("Guest"),
    _("Reply"),
    _("Plus-ones"),
    _("Diets"),
    _("Allergies"),
    _("Plus-ones' diets"),
    _("Plus-ones' allergies"),
    _("Dietary notes"),
    _("Brings"),
    _("Note"),
]


def csv_safe(value: str) -> str:
    """Stop spreadsheet formula injection from user text: a cell a spreadsheet
    would read as a formula starts with a quote instead."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def ordered_replies(rsvps: QuerySet[RSVP]) -> QuerySet[RSVP]:
    """Replies in `STATUS_ORDER`, then as they came, with their guests."""
    rank = Case(
        *(When(status=status, then=Value(i)) for i, status in enumerate(STATUS_ORDER)),
        output_field=IntegerField(),
    )
    return rsvps.select_related("guest").order_by(rank, "created_at", "pk")


@dataclass
class GuestLine:
    """One reply as the hosts' list shows it."""

    rsvp: RSVP
    name: str
    diets: list[str] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)
    plus_one_diets: list[str] = field(default_factory=list)
    plus_one_allergies: list[str] = field(default_factory=list)
    dietary_notes: str = ""
    brings: list[str] = field(default_factory=list)

    @property
    def reply(self) -> str:
        return self.rsvp.get_status_display()

    @property
    def has_needs(self) -> bool:
        return bool(
            self.diets
            or self.allergies
            or self.plus_one_diets
            or self.plus_one_allergies
            or self.dietary_notes
        )


def dish_text(dish: Dish) -> str:
    return f"{dish.get_course_display()}: {dish.name}"


def guest_lines(rsvps: Iterable[RSVP], dishes: Iterable[Dish]) -> list[GuestLine]:
    """Each reply with what its guest brings (their dishes in `dishes`) and,
    for guests going or waitlisted, their diets and allergies."""
    brings: dict[tuple[int, int], list[str]] = {}
    for dish in dishes:
        brings.setdefault((dish.party_id, dish.added_by_id), []).append(dish_text(dish))
    lines = []
    for rsvp in rsvps:
        guest = rsvp.guest
        line = GuestLine(
            rsvp=rsvp,
            name=guest.display_name,
            brings=brings.get((rsvp.party_id, rsvp.guest_id), []),
        )
        if rsvp.status in NEEDS_SHOWN_FOR:
            line.diets = labels(Diet, guest.diets)
            line.allergies = labels(Allergen, guest.allergies)
            line.dietary_notes = guest.dietary_notes
            if rsvp.plus_ones:
                line.plus_one_diets = labels(Diet, rsvp.plus_one_diets)
                line.plus_one_allergies = labels(Allergen, rsvp.plus_one_allergies)
        lines.append(line)
    return lines


@dataclass
class CourseDishes:
    label: str
    dishes: list[tuple[str, str, list[str]]]  # (dish, who brings it, allergen labels)


def dishes_by_course(party: DinnerParty, dishes: Iterable[Dish]) -> list[CourseDishes]:
    """The menu for the sheet: the host's main dish, then every dish, by course."""
    dishes = list(dishes)
    courses = []
    for course, label in Course.choices:
        rows = [
            (dish.name, dish.added_by.display_name, labels(Allergen, dish.allergens))
            for dish in dishes
            if dish.course == course
        ]
        if course == Course.MAIN and party.main_dish:
            rows.insert(0, (party.main_dish, party.host.display_name, []))
        if rows:
            courses.append(CourseDishes(label=label, dishes=rows))
    return courses


def guest_list_csv(lines: Iterable[GuestLine]) -> str:
    """The CSV file of a party's guest list (`CSV_HEADER`), every text cell
    made safe to open in a spreadsheet."""
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow([str(heading) for heading in CSV_HEADER])
    for line in lines:
        writer.writerow(
            [
                csv_safe(line.name),
                line.reply,
                line.rsvp.plus_ones,
                csv_safe(", ".join(line.diets)),
                csv_safe(", ".join(line.allergies)),
                csv_safe(", ".join(line.plus_one_diets)),
                csv_safe(", ".join(line.plus_one_allergies)),
                csv_safe(line.dietary_notes),
                csv_safe("; ".join(line.brings)),
                csv_safe(line.rsvp.note),
            ]
        )
    return out.getvalue()
