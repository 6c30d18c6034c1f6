"""The common-password list behind `CommonPasswordValidator` (ASVS 6.2.4): Django's
own list plus the long forms people make of common passwords when a site asks for
15 characters. Django's list has 19,646 passwords but only 46 of 15 characters or
more, so on its own it refuses almost nothing our length rule lets through.

The long forms are generated, offline and reproducibly, from Django's list (ordered
by how common each password is) by the stretches that length rules are known to
produce: each of the 2,000 most common doubled ("passwordpassword") or padded
with a digit run ("monkey123456789"), doubled with a year or "!" added, each two
of the 100 most common joined ("iloveyoupassword"), keyboard and digit runs ("123456789012345",
"qwertyuiopasdfgh"), and a few well-known phrases. Build it again with
`python -m accounts.common_passwords` (it writes `COMMON_PASSWORDS_PATH`).
"""

import gzip
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

import django.contrib.auth

COMMON_PASSWORDS_PATH = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"
MIN_LENGTH = 15

KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
PADDING = ("123456789", "1234567890", "12345678910", "0123456789", "987654321", "111111111")
SUFFIXES = ("!", "!!", "1", "12", "123", "1!", "123!", "2024", "2025", "2026", "@123", "#1")
PHRASES = (
    "correcthorsebatterystaple",
    "iloveyouforever",
    "iloveyousomuch",
    "iloveyoutoomuch",
    "letmeinplease",
    "thisismypassword",
    "mypasswordisstrong",
    "passwordpassword",
    "changemechangeme",
    "ilovemyfamily",
    "ilovemychildren",
    "ilovemyhusband",
    "ilovemywife",
    "ilovemydog",
    "ilovemycat",
    "welcometothejungle",
    "thequickbrownfoxjumpsoverthelazydog",
    "maytheforcebewithyou",
    "onetwothreefourfive",
    "trustno1trustno1",
    "godisgoodallthetime",
    "jesuslovesme",
    "hellohellohello",
    "abcdefghijklmnopqrstuvwxyz",
)


def django_common_passwords() -> list[str]:
    """Django's list, most common first."""
    path = Path(django.contrib.auth.__file__).resolve().parent / "common-passwords.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [line.strip() for line in lines if line.strip()]


def _runs() -> Iterator[str]:
    """Digit runs and keyboard walks of 15 to 20 characters."""
    digits = "1234567890" * 3
    for length in range(MIN_LENGTH, 21):
        yield digits[:length]
        yield "".join(str(n % 10) for n in range(length, 0, -1))
        for digit in "0123456789":
            yield digit * length
    rows = "".join(KEYBOARD_ROWS[1:])
    for length in range(MIN_LENGTH, 21):
        yield rows[:length]
        yield ("1q2w3e4r5t6y7u8i9o0p")[:length]
        yield ("qazwsxedcrfvtgbyhnujm")[:length]
        yield ("1qaz2wsx3edc4rfv5tgb")[:length]


def _stretched(words: list[str]) -> Iterator[str]:
    """Common passwords made long enough, the most common first."""
    top = words[:100]
    for word in words[:2000]:
        yield word + word
        for padding in PADDING:
            yield word + padding
        for suffix in SUFFIXES:
            yield word * 2 + suffix
    for first, second in itertools.product(top, top):
        yield first + second


def build(words: Iterable[str] | None = None) -> list[str]:
    """Django's list, then the long forms, each once, in lower case."""
    words = list(words) if words is not None else django_common_passwords()
    seen: set[str] = set()
    result: list[str] = []
    for candidate in itertools.chain(words, PHRASES, _runs(), _stretched(words)):
        candidate = candidate.strip().lower()
        if candidate and candidate not in seen:
            seen.add(candidate)
            result.append(candidate)
    return result


def long_enough(passwords: Iterable[str], min_length: int = MIN_LENGTH) -> int:
    return sum(1 for password in passwords if len(password) >= min_length)


def write(path: Path = COMMON_PASSWORDS_PATH) -> list[str]:
    passwords = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same list always makes the same file.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write("\n".join(passwords).encode() + b"\n")
    return passwords


if __name__ == "__main__":
    passwords = write()
    print(f"{len(passwords)} passwords, {long_enough(passwords)} of {MIN_LENGTH}+ characters")
