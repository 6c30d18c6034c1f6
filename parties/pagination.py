"""Pages without COUNT(*): counting every visible party costs as much as the
table is large, while a page needs only its own rows plus one to know whether
another page follows. Page N costs the same at 1,000 parties as at 100,000.

"Next" links also carry the id of the page's last row (`after`): the next page
starts right after it (keyset paging), so a deep page reached by "Next" costs
what page 1 does, and a party added meanwhile doesn't repeat a card. A link
typed by hand (`?page=N` alone, or a mangled `after`) still opens page N."""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404
from django.utils.translation import gettext_lazy as _


@dataclass
class LookaheadPage:
    number: int
    object_list: list
    has_next: bool
    next_after: int = 0  # the last row's id, for the "Next" link

    @staticmethod
    def number_of(page: str | None) -> int:
        """The page number asked for (1 when none is); 404 for anything else."""
        try:
            number = int(page or 1)
        except ValueError:
            raise Http404(_("That page number isn't a number.")) from None
        if number < 1:
            raise Http404(_("Pages start at 1."))
        return number

    @staticmethod
    def after_of(after: str | None) -> int:
        """The row id a "Next" link carries; 0 (none) for anything that isn't one,
        so a mangled link still opens the page by its number."""
        if after and len(after) <= 18 and after.isascii() and after.isdigit():
            return int(after)
        return 0

    @classmethod
    def of_rows(
        cls,
        fetch: Callable[[int, int, int], list[dict]],
        *,
        per_page: int,
        page: str | None,
        after: str | None = None,
    ) -> "LookaheadPage":
        """The page from `fetch(limit, offset, after)`, which returns up to `limit`
        rows (dicts with "pk"): those after the row `after` when the link names one
        that still leads somewhere, else those at the page's offset."""
        number = cls.number_of(page)
        cursor = cls.after_of(after) if number > 1 else 0
        rows = fetch(per_page + 1, 0, cursor) if cursor else []
        if not rows:
            rows = fetch(per_page + 1, (number - 1) * per_page, 0)
        if not rows and number > 1:
            raise Http404(_("There are no parties on that page."))
        has_next = len(rows) > per_page
        return cls(
            number=number,
            object_list=rows[:per_page],
            has_next=has_next,
            next_after=rows[per_page - 1]["pk"] if has_next else 0,
        )

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
