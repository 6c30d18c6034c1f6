"""`in_sentence`: an allergen's or an audience's name inside a translated sentence."""

from django.template import Context, Template
from django.utils import translation


def render(language: str, text: str) -> str:
    with translation.override(language):
        return Template("{% load wording %}{{ text|in_sentence }}").render(Context({"text": text}))


def test_a_name_is_lower_case_inside_an_english_french_spanish_or_portuguese_sentence():
    assert render("en", "Sesame, Tree nuts") == "sesame, tree nuts"
    assert render("fr", "Fruits à coque") == "fruits à coque"
    assert render("es", "Frutos de cáscara") == "frutos de cáscara"
    assert render("pt", "Frutos de casca rija") == "frutos de casca rija"


def test_a_german_noun_keeps_its_capital():
    assert render("de", "Schalenfrüchte, Sesamsamen") == "Schalenfrüchte, Sesamsamen"


def test_hostile_text_is_still_escaped():
    assert render("en", "<b>Nuts</b>") == "&lt;b&gt;nuts&lt;/b&gt;"
