"""`make i18n-check` (ops/i18n_check.py): each kind of problem is named by its msgid."""

import shutil
from pathlib import Path

import pytest

from ops import i18n_check

HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

"""

COMPLETE = (
    HEADER
    + """#: parties/views.py
msgid "Your reply is saved."
msgstr "Deine Antwort ist gespeichert."

#: parties/models.py
#, python-format
msgid "%(host)s's dinner party “%(title)s”"
msgstr "Das Abendessen „%(title)s“ von %(host)s"

#: parties/views.py
#, python-format
msgid "%(n)d seat left"
msgid_plural "%(n)d seats left"
msgstr[0] "Ein Platz frei"
msgstr[1] "%(n)d Plätze frei"

msgctxt "date and time of a party"
msgid "D j M, H:i T"
msgstr "D j. M, H:i T"

msgid ""
"A long message "
"on two lines."
msgstr ""
"Eine lange Nachricht "
"auf zwei Zeilen."
"""
)


def write_catalogues(root: Path, text: str, *, languages=i18n_check.TRANSLATED) -> Path:
    for language in languages:
        path = i18n_check.po_path(root, language)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_complete_catalogues_pass(tmp_path):
    root = write_catalogues(tmp_path, COMPLETE)
    assert i18n_check.check(root) == []


def test_a_po_file_is_read_with_its_context_plurals_and_continued_lines():
    entries = i18n_check.messages(i18n_check.parse_po(COMPLETE))
    assert [entry.msgid for entry in entries][-1] == "A long message on two lines."
    assert entries[-1].msgstr == {0: "Eine lange Nachricht auf zwei Zeilen."}
    assert entries[2].msgid_plural == "%(n)d seats left"
    assert entries[2].msgstr == {0: "Ein Platz frei", 1: "%(n)d Plätze frei"}
    assert entries[3].msgctxt == "date and time of a party"


def test_a_fuzzy_entry_is_named_in_the_failure(tmp_path):
    text = COMPLETE.replace(
        '#: parties/views.py\nmsgid "Your reply', '#: parties/views.py\n#, fuzzy\nmsgid "Your reply'
    )
    root = write_catalogues(tmp_path, text, languages=["de"])
    write_catalogues(tmp_path, COMPLETE, languages=["fr", "es", "pt"])
    assert i18n_check.check(root) == [
        "de: “Your reply is saved.” is fuzzy (check the translation, then remove the flag)"
    ]


def test_an_untranslated_entry_is_named_in_the_failure(tmp_path):
    text = COMPLETE.replace('msgstr "Deine Antwort ist gespeichert."', 'msgstr ""')
    root = write_catalogues(tmp_path, text)
    problems = i18n_check.check(root)
    assert "es: “Your reply is saved.” is not translated" in problems
    assert len(problems) == 4  # one per language


def test_an_untranslated_plural_form_is_named(tmp_path):
    text = COMPLETE.replace('msgstr[1] "%(n)d Plätze frei"', 'msgstr[1] ""')
    problems = i18n_check.check(write_catalogues(tmp_path, text))
    assert "pt: “%(n)d seat left” is not translated" in problems


def test_a_renamed_placeholder_is_named_with_both_sets(tmp_path):
    text = COMPLETE.replace("von %(host)s", "von %(hostname)s")
    problems = i18n_check.check(write_catalogues(tmp_path, text))
    assert problems[0] == (
        "de: “%(host)s's dinner party “%(title)s”” has placeholders "
        "['%(hostname)s', '%(title)s'] where the msgid has ['%(host)s', '%(title)s']"
    )


@pytest.mark.parametrize(
    ("msgid", "msgstr"),
    [
        ("Hello %s", "Hallo"),
        ("%d guests", "%s Gäste"),
        ("Hello {name}", "Hallo {nom}"),
        ("Plain text", "Text mit %(extra)s"),
    ],
)
def test_dropped_or_changed_placeholders_of_every_style_fail(tmp_path, msgid, msgstr):
    text = HEADER + f'msgid "{msgid}"\nmsgstr "{msgstr}"\n'
    problems = i18n_check.check(write_catalogues(tmp_path, text))
    assert len(problems) == 4
    assert f"“{msgid}” has placeholders" in problems[0]


def test_placeholders_may_change_order_and_percent_signs_are_not_placeholders(tmp_path):
    text = HEADER + 'msgid "%(a)s then %(b)s, 100%%"\nmsgstr "%(b)s nach %(a)s, 100 %%"\n'
    assert i18n_check.check(write_catalogues(tmp_path, text)) == []


def test_a_plural_form_may_leave_out_the_number_but_not_add_one(tmp_path):
    bad = COMPLETE.replace('msgstr[0] "Ein Platz frei"', 'msgstr[0] "Ein Platz für %(who)s"')
    problems = i18n_check.check(write_catalogues(tmp_path, bad))
    assert problems[0].startswith("de: “%(n)d seat left” has placeholders")


def test_a_missing_catalogue_is_named(tmp_path):
    write_catalogues(tmp_path, COMPLETE, languages=["de", "fr", "es"])
    problems = i18n_check.check(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("pt: ")
    assert "is missing" in problems[0]


def test_a_stale_catalogue_names_new_and_removed_strings(tmp_path):
    current = write_catalogues(tmp_path / "current", COMPLETE)
    fresh_text = COMPLETE.replace("Your reply is saved.", "Your answer is saved.")
    fresh = write_catalogues(tmp_path / "fresh", fresh_text)
    problems = i18n_check.check(current, fresh_dir=fresh)
    assert (
        "de: “Your answer is saved.” is in the code but not in the .po (run `make messages`)"
        in problems
    )
    assert "de: “Your reply is saved.” is in the .po but no longer in the code" in problems[1]


def test_obsolete_entries_do_not_count(tmp_path):
    text = COMPLETE + '\n#~ msgid "Gone"\n#~ msgstr ""\n'
    assert i18n_check.check(write_catalogues(tmp_path, text)) == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext not installed")
def test_makemessages_into_a_copy_finds_the_strings_marked_in_the_code(tmp_path):
    i18n_check.makemessages(tmp_path)
    fresh = i18n_check.parse_po(i18n_check.po_path(tmp_path, "de").read_text())
    msgids = {entry.msgid for entry in fresh}
    assert "Hosted by %(host)s. On the menu: %(main_dish)s." in msgids  # parties/calendar.py
    assert "German" in msgids  # settings.LANGUAGES
