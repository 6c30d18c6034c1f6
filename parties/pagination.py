"""Pages without COUNT(*): counting every visible party costs as much as the
table is large, while a page needs only its own rows plus one to know whether
another page follows. Page N costs the same at 1,000 parties as at 100,000."""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404


@dataclass
class LookaheadPage:
    number: int
    object_list: list
    has_next: bool

    @staticmethod
    def number_of(page: str | None) -> int:
        """The page number asked for (1 when none is); 404 for anything else."""
        try:
            number = int(page or 1)
        except ValueError:
            raise Http404("That page number isn't a number.") from None
        if number < 1:
            raise Http404("Pages start at 1.")
        return number

    @classmethod
    def of_rows(
        cls, fetch: Callable[[int, int], list], *, per_page: int, page: str | None
    ) -> "LookaheadPage":
        """The page from `fetch(limit, offset)`, which returns up to `limit` rows."""
        number = cls.number_of(page)
        rows = fetch(per_page + 1, (number - 1) * per_page)
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
