"""English dates and numbers as the site wrote them before it spoke other languages
(LANGUAGE_CODE was "en-gb"): day before month ("31/12/2026"), weeks from Monday.
LANGUAGE_CODE is "en" now, one of the five LANGUAGES; this keeps its formats British."""

from django.conf.locale.en_GB.formats import *  # noqa: F403
