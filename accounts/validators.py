import hashlib
import logging
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

MAX_PASSWORD_LENGTH = 1024


class MaximumLengthValidator:
    """Refuse multi-kilobyte passwords before they reach the hasher."""

    def __init__(self, max_length: int = MAX_PASSWORD_LENGTH):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                _("This password is too long: at most %(max_length)d characters."),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return gettext("Your password can be up to %(max)d characters long.") % {
            "max": self.max_length
        }


# ASVS 6.1.2: words anyone guessing a password for this site would try first.
SITE_WORDS = (
    "dinnerparty",
    "dinner",
    "party",
    "parties",
    "potluck",
    "supper",
    "rsvp",
    "guest",
    "host",
    "password",
)
MIN_CONTEXT_WORD_LENGTH = 3


class ContextWordsValidator:
    """Refuse passwords built on words easy to guess here (ASVS 6.1.2, 6.2.11): the
    site's own (`SITE_WORDS`) and the account's — username, the email's local part,
    first and last name. Such words don't count towards the minimum length: what
    is left without them must still be `min_length` characters, so
    "dinnerparty2026!!" is refused and a long sentence that mentions a dinner is not."""

    def __init__(self, min_length: int = 15, words: tuple[str, ...] = SITE_WORDS):
        self.min_length = min_length
        self.words = words

    def context_words(self, user=None) -> list[str]:
        """The words, in lower case, longest first (so "dinnerparty" goes whole)."""
        words = set(self.words)
        if user is not None:
            email = getattr(user, "email", "") or ""
            for value in (
                getattr(user, "username", ""),
                email.partition("@")[0],
                getattr(user, "first_name", ""),
                getattr(user, "last_name", ""),
            ):
                value = (value or "").lower()
                for word in (value, "".join(char for char in value if char.isalnum())):
                    if len(word) >= MIN_CONTEXT_WORD_LENGTH:
                        words.add(word)
        return sorted(words, key=lambda word: (-len(word), word))

    def validate(self, password: str, user=None) -> None:
        rest = password.lower()
        found = []
        for word in self.context_words(user):
            if word in rest:
                found.append(word)
                rest = rest.replace(word, "")
        if not found or len(rest) >= self.min_length:
            return
        raise ValidationError(
            gettext(
                "This password is built on words that are easy to guess here (%(words)s). "
                "They don't count towards its %(min_length)d characters: add more of your own."
            ),
            code="password_context_words",
            params={
                "words": ", ".join(f"“{word}”" for word in sorted(found)),
                "min_length": self.min_length,
            },
        )

    def get_help_text(self) -> str:
        return gettext(
            "Words like “dinner”, “party” or your own name don't count towards its length."
        )


class BreachedPasswordValidator:
    """Refuse passwords found in data breaches (ASVS 6.2.12), by Have I Been Pwned's
    range API with k-anonymity: only the first 5 hex digits of the password's
    SHA-1 leave the machine, and the answer lists every breached hash that starts
    with them. Off unless `PWNED_PASSWORDS_URL` is set (it needs the internet).
    When the service does not answer within `PWNED_PASSWORDS_TIMEOUT` seconds, the
    password is let through (logged): people can still sign up while it is down,
    and the other validators still apply."""

    def validate(self, password: str, user=None) -> None:
        url = getattr(settings, "PWNED_PASSWORDS_URL", "")
        if not url.startswith(("https://", "http://")):
            return  # off (or not a web address: nothing else is opened)
        digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
        prefix, suffix = digest[:5], digest[5:]
        request = urllib.request.Request(  # noqa: S310 -- http(s) only, checked above
            url.rstrip("/") + "/" + prefix,
            headers={"Add-Padding": "true", "User-Agent": "DinnerParty password check"},
        )
        try:
            with urllib.request.urlopen(  # noqa: S310 -- http(s) only, checked above
                request, timeout=settings.PWNED_PASSWORDS_TIMEOUT
            ) as response:
                body = response.read(2_000_000).decode("ascii", errors="replace")
        except (OSError, ValueError) as error:
            logger.warning("breached-password check unavailable: %s", type(error).__name__)
            return
        for line in body.splitlines():
            found, _, count = line.strip().partition(":")
            if found.upper() == suffix and count.strip() not in ("", "0"):
                raise ValidationError(
                    "This password has appeared in a data breach, so attackers try it "
                    "first. Please choose another.",
                    code="password_breached",
                )

    def get_help_text(self) -> str:
        return gettext("It can't be one that has appeared in a known data breach.")
