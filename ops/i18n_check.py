"""`make i18n-check`: are the translations complete and in step with the code?

For each language but English (whose catalogue is the msgids themselves), every
message in `locale/<lang>/LC_MESSAGES/django.po` must be translated, not fuzzy,
and carry the same placeholders as its msgid (`%(name)s`, `{name}`, `%s`, `%d`):
a translation that drops or renames one fails at run time, or shows the wrong
value. And the .po files must not be stale: `makemessages` is run as
`make messages` runs it, into a copy of locale/, and any msgid it finds that a
.po lacks (a new string nobody has run `make messages` for) or that a .po has and
the code no longer does is a failure too. Each problem names its msgid.

    python -m ops.i18n_check          # exit status 1 and one line per problem

docs/i18n.md says how to add a string and translate it.
"""

import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = BASE_DIR / "locale"
# The languages with a catalogue to check (English is the source language).
TRANSLATED = ("de", "fr", "es", "pt")
# What `make messages` passes to makemessages (the Makefile runs this module's
# `makemessages` too, so the two never differ).
MAKEMESSAGES_OPTIONS = {
    "locale": ["en", *TRANSLATED],
    "add_location": "file",
    "no_obsolete": True,
    # ("locale": else makemessages writes into the locale/ it walks past, not LOCALE_PATHS.)
    "ignore_patterns": ["locale", "var/*", "bench/*", "e2e/*", "static/*", "node_modules/*"],
    "verbosity": 0,
}

# printf-style (%(name)s, %s, %d, %.1f, but not %%) and str.format-style ({name}, {0}).
PLACEHOLDER = re.compile(
    r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[-#0 +]*\d*(?:\.\d+)?[sdifrx]|\{[\w.]*\}"
)


@dataclass
class Entry:
    """One message of a .po file."""

    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def label(self) -> str:
        context = f" (context “{self.msgctxt}”)" if self.msgctxt else ""
        return f"“{self.msgid}”{context}"


def _unquote(text: str) -> str:
    """A .po string literal's value (C escapes)."""
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"not a quoted string: {text!r}")
    body = text[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), body)


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file (the header, msgid "", included), in order."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None  # the field continuation lines add to
    started = False

    def finish() -> None:
        nonlocal entry, started, target
        if started:
            entries.append(entry)
        entry, started, target = Entry(), False, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if not line:
                continue
        elif line.startswith("#,"):
            if started and target is not None:
                finish()
            entry.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        elif line.startswith("#"):
            if started and target is not None and target[0] != "msgctxt":
                finish()
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if target is None:
                raise ValueError(f"line {number}: a string continues nothing")
            value = _unquote(line)
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] = entry.msgstr.get(index, "") + value
            else:
                setattr(entry, name, (getattr(entry, name) or "") + value)
            continue
        if keyword in ("msgctxt", "msgid") and started and target and target[0] == "msgstr":
            finish()
        if not entry.line:
            entry.line = number
        started = True
        if keyword == "msgctxt":
            entry.msgctxt, target = _unquote(rest), ("msgctxt", 0)
        elif keyword == "msgid":
            entry.msgid, target = _unquote(rest), ("msgid", 0)
        elif keyword == "msgid_plural":
            entry.msgid_plural, target = _unquote(rest), ("msgid_plural", 0)
        elif keyword.startswith("msgstr"):
            match = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
            if not match:
                raise ValueError(f"line {number}: unknown keyword {keyword!r}")
            index = int(match.group(1) or 0)
            entry.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
        else:
            raise ValueError(f"line {number}: unknown keyword {keyword!r}")
    finish()
    return entries


def placeholders(text: str) -> list[str]:
    """The placeholders in `text`, sorted (their order may differ between languages)."""
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def messages(entries: list[Entry]) -> list[Entry]:
    """The translatable entries: not the header, not obsolete ones."""
    return [entry for entry in entries if entry.msgid and not entry.obsolete]


def plural_mismatch(entry: Entry, value: str) -> bool:
    """A plural form may leave out a number ("un compte" for "%(n)d account") but
    must keep every other placeholder and add none."""
    allowed = set(placeholders(entry.msgid)) | set(placeholders(entry.msgid_plural))
    got = set(placeholders(value))
    needed = {p for p in allowed if p[-1] not in "dif"}
    return not got <= allowed or not needed <= got


def problems_in(language: str, entries: list[Entry]) -> list[str]:
    """What is wrong with one language's catalogue, one line per problem."""
    found = []
    for entry in messages(entries):
        where = f"{language}: {entry.label}"
        if "fuzzy" in entry.flags:
            found.append(f"{where} is fuzzy (check the translation, then remove the flag)")
            continue
        values = [entry.msgstr.get(index, "") for index in sorted(entry.msgstr)] or [""]
        if not all(value.strip() for value in values):
            found.append(f"{where} is not translated")
            continue
        for value in values:
            if entry.msgid_plural:
                mismatch = plural_mismatch(entry, value)
                wanted, got = placeholders(entry.msgid_plural), placeholders(value)
            else:
                wanted, got = placeholders(entry.msgid), placeholders(value)
                mismatch = got != wanted
            if mismatch:
                found.append(
                    f"{where} has placeholders {got or 'none'} where the msgid has "
                    f"{wanted or 'none'}"
                )
                break
    return found


def stale_problems(language: str, current: list[Entry], fresh: list[Entry]) -> list[str]:
    """What `make messages` would change in a language's catalogue."""
    have = {entry.key: entry for entry in messages(current)}
    want = {entry.key: entry for entry in messages(fresh)}
    found = [
        f"{language}: {want[key].label} is in the code but not in the .po (run `make messages`)"
        for key in want
        if key not in have
    ]
    found += [
        f"{language}: {have[key].label} is in the .po but no longer in the code "
        "(run `make messages`)"
        for key in have
        if key not in want
    ]
    return found


def po_path(locale_dir: Path, language: str) -> Path:
    return locale_dir / language / "LC_MESSAGES" / "django.po"


def makemessages(locale_dir: Path = LOCALE_DIR) -> None:
    """Run makemessages for every language into `locale_dir`. makemessages writes
    a file's strings to the locale/ nearest above it, so for another `locale_dir`
    it runs in a temporary tree that links to the project's sources and has
    `locale_dir` as its locale/."""
    import django
    from django.core.management import call_command
    from django.test.utils import override_settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dinnerparty.settings")
    django.setup()
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as temp:
        root = BASE_DIR
        if Path(locale_dir).resolve() != LOCALE_DIR.resolve():
            root = Path(temp)
            for item in BASE_DIR.iterdir():
                if item.name not in {"locale", "var", ".venv", ".git"}:
                    (root / item.name).symlink_to(item)
            (root / "locale").symlink_to(Path(locale_dir).resolve())
        os.chdir(root)
        try:
            with override_settings(LOCALE_PATHS=[root / "locale"]):
                call_command("makemessages", symlinks=True, **MAKEMESSAGES_OPTIONS)
        finally:
            os.chdir(cwd)


def check(locale_dir: Path = LOCALE_DIR, *, fresh_dir: Path | None = None) -> list[str]:
    """Every problem with the catalogues under `locale_dir`; `fresh_dir` holds
    what makemessages makes now (made in a temporary copy when not given)."""
    found = []
    for language in TRANSLATED:
        path = po_path(locale_dir, language)
        if not path.exists():
            found.append(f"{language}: {path} is missing (run `make messages`)")
            continue
        try:
            current = parse_po(path.read_text(encoding="utf-8"))
        except ValueError as error:
            found.append(f"{language}: {path} cannot be read: {error}")
            continue
        found += problems_in(language, current)
        if fresh_dir is not None and po_path(fresh_dir, language).exists():
            fresh = parse_po(po_path(fresh_dir, language).read_text(encoding="utf-8"))
            found += stale_problems(language, current, fresh)
    return found


def main() -> int:
    if shutil.which("xgettext") is None:
        print("i18n-check needs GNU gettext: apt-get install gettext", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as temp:
        fresh_dir = Path(temp) / "locale"
        if LOCALE_DIR.exists():
            shutil.copytree(LOCALE_DIR, fresh_dir, ignore=shutil.ignore_patterns("*.mo"))
        else:
            fresh_dir.mkdir()
        makemessages(fresh_dir)
        found = check(LOCALE_DIR, fresh_dir=fresh_dir)
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print(f"i18n-check: {len(found)} problem(s); see docs/i18n.md", file=sys.stderr)
        return 1
    print(f"i18n-check: {', '.join(TRANSLATED)} complete and up to date")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "makemessages":
        makemessages(LOCALE_DIR)
        sys.exit(0)
    sys.exit(main())
