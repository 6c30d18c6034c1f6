"""`{% load wording %}`: words placed inside a translated sentence."""

from django import template
from django.utils import translation

register = template.Library()

# Languages whose nouns keep their capital inside a sentence.
CAPITALISED_NOUNS = {"de"}


@register.filter
def in_sentence(text: str) -> str:
    """A name such as an allergen's ("Sesame", "Schalenfrüchte") as it reads
    inside a sentence: lower-case, except where the language capitalises nouns."""
    language = (translation.get_language() or "").split("-")[0]
    return text if language in CAPITALISED_NOUNS else text.lower()
