"""Every word a person reads in a template goes through translation (issue 23).

The test walks every file under templates/ with Django's own template lexer and
an HTML parser, and fails naming the file and line of any English left outside
`{% translate %}` / `{% blocktranslate %}`: text between tags, the attributes a
person reads or hears (title, alt, placeholder, aria-label, meta descriptions),
string literals handed to includes (`heading="Going"`), filters that write words
(`pluralize:"person,people"`, `default:"…"`) and date formats that fix an
English order ("j F Y"). Plain-text emails are text from end to end.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"

# Words that are the same in every language: the brand, and nothing else yet.
BRAND_WORDS = {"DinnerParty"}

# Attributes a person reads (or a screen reader speaks); the rest (class, href,
# id, data-*) are for machines.
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}
# <meta name=… content=…> / <meta property=… content=…> whose content people read.
READ_META = {"description", "og:description", "og:title", "og:image:alt", "twitter:title"}
READ_META |= {"twitter:description", "twitter:image:alt"}

# Date format characters whose output is words, so their order is a language's.
WORDY_DATE_CHARS = set("DlMFNEbAaPS")
DATE_CHARS = set("dDjlNwzWFmMnyYLtbEoaAfgGhHiIsSuUeOPTZcr")

LETTERS = re.compile(r"[^\W\d_]")
TRANSLATE_OPEN = {"blocktranslate", "blocktrans"}
TRANSLATE_CLOSE = {"endblocktranslate", "endblocktrans"}
SKIPPED_OPEN = {"comment": "endcomment", "verbatim": "endverbatim"}
# A quoted literal not wrapped in _( … ).
LITERAL = re.compile(r"""(?<!_\()(?P<q>["'])(?P<text>(?:(?!(?P=q)).)*)(?P=q)""")
WITH_LITERAL = re.compile(r"""\b\w+=(?P<q>["'])(?P<text>(?:(?!(?P=q)).)*)(?P=q)""")
FILTER_ARG = re.compile(r"""\|(?P<name>\w+):(?P<q>["'])(?P<text>(?:(?!(?P=q)).)*)(?P=q)""")
WORDY_FILTERS = {"pluralize", "default", "default_if_none", "yesno"}
PLACEHOLDER = " "


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def has_words(text: str) -> bool:
    for word in BRAND_WORDS:
        text = text.replace(word, "")
    return bool(LETTERS.search(text))


def wordy_date_format(fmt: str) -> bool:
    """True for a fixed format that orders words: "j F Y", not "M", "c" or "Y-m-d"."""
    if re.fullmatch(r"[A-Z_]+_FORMAT", fmt):
        return False
    elements = [char for char in fmt if char in DATE_CHARS]
    return len(elements) > 1 and any(char in WORDY_DATE_CHARS for char in elements)


class _TextFinder(HTMLParser):
    """Collects text nodes and read attributes with words; line numbers are the
    template's, because non-text tokens were replaced by spaces and newlines kept."""

    def __init__(self, path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.findings: list[Finding] = []
        self._raw: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._raw.append(tag)
        line = self.getpos()[0]
        values = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            reads = name in READ_ATTRIBUTES or (
                tag == "input" and name == "value" and values.get("type") in {"submit", "button"}
            )
            if tag == "meta" and name == "content":
                reads = (values.get("name") or values.get("property")) in READ_META
            if reads and has_words(value):
                self.findings.append(Finding(self.path, line, f"{name}={value.strip()}"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in {"script", "style"}:
            self._raw.pop()

    def handle_endtag(self, tag: str) -> None:
        if self._raw and self._raw[-1] == tag:
            self._raw.pop()

    def handle_data(self, data: str) -> None:
        if self._raw or not has_words(data):
            return
        line = self.getpos()[0]
        # Point at the line with the words, not the line where the text node began.
        leading = data[: len(data) - len(data.lstrip())]
        self.findings.append(Finding(self.path, line + leading.count("\n"), " ".join(data.split())))


def _check_tag(path: str, token_type: TokenType, contents: str, line: int) -> list[Finding]:
    findings = []
    for match in FILTER_ARG.finditer(contents):
        name, text = match["name"], match["text"]
        if name in WORDY_FILTERS and has_words(text):
            findings.append(Finding(path, line, f"|{name}:{text!r}"))
        elif name in {"date", "time"} and wordy_date_format(text):
            findings.append(Finding(path, line, f"|{name}:{text!r} (an English date order)"))
    if token_type is TokenType.BLOCK:
        command, _, rest = contents.partition(" ")
        if command in {"include", "with"}:
            literals = WITH_LITERAL.finditer(rest)
        elif command == "firstof":
            literals = LITERAL.finditer(rest)
        else:
            literals = iter(())
        for match in literals:
            if has_words(match["text"]):
                findings.append(Finding(path, line, f"{{% {command} %}} literal {match['text']!r}"))
    return findings


def untranslated(path: Path) -> list[Finding]:
    """The English in one template that no translate tag covers."""
    name = str(path.relative_to(TEMPLATES_DIR))
    source = path.read_text()
    findings: list[Finding] = []
    skipping_until: str | None = None
    translating = False
    pieces: list[str] = []
    for token in Lexer(source).tokenize():
        raw = token.token_string if hasattr(token, "token_string") else token.contents
        command = token.contents.split(" ", 1)[0] if token.token_type is TokenType.BLOCK else ""
        if skipping_until is not None:
            if command == skipping_until:
                skipping_until = None
        elif command in SKIPPED_OPEN:
            skipping_until = SKIPPED_OPEN[command]
        elif command in TRANSLATE_OPEN:
            translating = True
        elif command in TRANSLATE_CLOSE:
            translating = False
        elif not translating and token.token_type is not TokenType.TEXT:
            findings += _check_tag(name, token.token_type, token.contents, token.lineno)
        if token.token_type is TokenType.TEXT and skipping_until is None and not translating:
            pieces.append(raw)
        else:
            # Keep the line numbers: a tag becomes a space, its newlines stay.
            pieces.append(PLACEHOLDER + "\n" * raw.count("\n"))
    text = "".join(pieces)
    if path.suffix == ".txt":
        for number, line in enumerate(text.splitlines(), start=1):
            if has_words(line):
                findings.append(Finding(name, number, line.strip()))
    else:
        finder = _TextFinder(name)
        finder.feed(text)
        finder.close()
        findings += finder.findings
    return sorted(findings, key=lambda finding: finding.line)


def template_files() -> list[Path]:
    return sorted(p for p in TEMPLATES_DIR.rglob("*") if p.suffix in {".html", ".txt"})


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(TEMPLATES_DIR)))
def test_every_word_in_a_template_is_marked_for_translation(path):
    findings = untranslated(path)
    assert not findings, "English outside {% translate %}:\n" + "\n".join(map(str, findings))


def _findings_in(tmp_path, monkeypatch, source: str, name: str = "page.html") -> list[str]:
    monkeypatch.setattr(f"{__name__}.TEMPLATES_DIR", tmp_path)
    (tmp_path / name).write_text(source)
    return [f"{f.line}: {f.text}" for f in untranslated(tmp_path / name)]


def test_the_check_names_the_line_of_english_text_left_untranslated(tmp_path, monkeypatch):
    source = '{% load i18n %}\n<p>{% translate "Fine" %}</p>\n<p>\n  Not fine\n</p>\n'
    assert _findings_in(tmp_path, monkeypatch, source) == ["4: Not fine"]


def test_the_check_lets_translate_blocks_tags_variables_entities_and_the_brand_pass(
    tmp_path, monkeypatch
):
    source = (
        "{% load i18n %}{# A comment #}{% comment %}Notes{% endcomment %}\n"
        '<a class="nav-link{% if x %} active{% endif %}" href="/x">{{ name }}</a>&nbsp;·\n'
        "{% blocktranslate trimmed with name=n %}\n  Hello {{ name }}\n{% endblocktranslate %}\n"
        '<span>DinnerParty</span><script src="/s.js"></script><style>p { color: red }</style>\n'
        '<img alt="{% translate "A cake" %}" src="/c.png">{{ day|date:"M" }} {{ day|date:"c" }}\n'
    )
    assert _findings_in(tmp_path, monkeypatch, source) == []


def test_the_check_finds_english_in_attributes_literals_filters_and_date_orders(
    tmp_path, monkeypatch
):
    source = (
        '<img alt="A cake" src="/c.png"><input type="submit" value="Go">\n'
        '<meta name="description" content="Plan dinners"><meta name="viewport" content="width">\n'
        '{% include "x.html" with heading="Going" other=_("Fine") %}\n'
        '{{ n|pluralize:"person,people" }}{{ day|date:"j F Y" }}{{ day|date:"DATE_FORMAT" }}\n'
        "{% if a %}Yes{% endif %}\n"
    )
    assert _findings_in(tmp_path, monkeypatch, source) == [
        "1: alt=A cake",
        "1: value=Go",
        "2: content=Plan dinners",
        "3: {% include %} literal 'Going'",
        "4: |pluralize:'person,people'",
        "4: |date:'j F Y' (an English date order)",
        "5: Yes",
    ]


def test_the_check_reads_plain_text_emails_line_by_line(tmp_path, monkeypatch):
    source = '{% load i18n %}{% translate "Hello" %}\n\n{{ url }}\nSee you soon\n'
    assert _findings_in(tmp_path, monkeypatch, source, "mail.txt") == ["4: See you soon"]
