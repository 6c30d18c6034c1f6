"""What user text may contain, for every text field a person types into.

Control characters (Unicode category Cc: U+0000-U+001F and U+007F-U+009F) are
invisible, and a page or an email that shows them to others shows nothing anyone
meant to write; they are also what internal markers are made of (the page cache's
CSRF placeholder). So they are refused — in multi-line text, all but the line
breaks and the tab a textarea sends. These are model-field validators, so every
form built on a model (the site's and the admin's) runs them.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

MULTILINE_ALLOWED = frozenset("\n\r\t")


def _refuse_control_characters(value: str, allowed: frozenset[str] = frozenset()) -> None:
    found = sorted({ch for ch in value if ch not in allowed and unicodedata.category(ch) == "Cc"})
    if found:
        raise ValidationError(
            _("Remove the invisible control characters from this text (found: %(found)s)."),
            code="control_characters",
            params={"found": ", ".join(f"U+{ord(ch):04X}" for ch in found)},
        )


def validate_single_line_text(value: str) -> None:
    """No control characters at all (not even a tab or a line break)."""
    _refuse_control_characters(value)


def validate_multiline_text(value: str) -> None:
    """No control characters but line breaks and tabs."""
    _refuse_control_characters(value, MULTILINE_ALLOWED)


def _interpolate(text, values: dict) -> str:
    return str(text) % values


# A translated message with its values filled in when it is shown, in the language
# active then (`gettext_lazy(...) % values` would fill it in, in English, at import).
interpolate_lazy = lazy(_interpolate, str)
