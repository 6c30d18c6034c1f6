"""Pages without COUNT(*): counting every visible party costs as much as the
table is large, while a page needs only its own rows plus one to know whether
another page follows. Page N costs the same at 1,000 parties as at 100,000."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404


@dataclass
class LookaheadPage:
    number: int
    object_list: list
    has_next: bool

    @classmethod
    def of(cls, queryset: QuerySet, *, per_page: int, page: str | None) -> "LookaheadPage":
        try:
            number = int(page or 1)
        except ValueError:
            raise Http404("That page number isn't a number.") from None
        if number < 1:
            raise Http404("Pages start at 1.")
        start = (number - 1) * per_page
        rows = list(queryset[start : start + per_page + 1])
        if not rows and number > 1:
            raise Http404("There are no parties on that page.")
        return cls(number=number, object_list=rows[:per_page], has_next=len(rows) > per_page)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
