"""Building an email's bytes with less repeated work, for the worker.

Python's email package (which Django's `EmailMessage.message()` uses) parses
every header it is given and folds it again when the message is written out,
and its header registry builds a new class for each header (`HeaderRegistry.
__getitem__`). Most of an email's headers are the same in every email
(`Content-Type: text/plain; charset="utf-8"`, `MIME-Version: 1.0`, the sender):
here they are parsed and folded once per process. This took an email's MIME
work from 2.5 ms to ~1.2 ms (SQLite worker, docs/performance.md).

Only the stdlib's own extension points are used (a policy's `header_factory`, a
registry's `base_class`); the bytes are the same as the stock policy's.
"""

import email.policy
from email.headerregistry import BaseHeader, HeaderRegistry
from functools import lru_cache

from django.core.mail import EmailMultiAlternatives


class FoldedOnce(BaseHeader):
    """A header that keeps the text it folds to (headers are never changed:
    setting one makes a new header)."""

    def fold(self, *, policy) -> str:
        folded = getattr(self, "_folded", None)
        if folded is not None and folded[0] is policy:
            return folded[1]
        text = super().fold(policy=policy)
        self._folded = (policy, text)
        return text


class ReusingRegistry(HeaderRegistry):
    """A header factory that builds each header class once, and each header
    whose name and value were seen before once (up to `SIZE` of them)."""

    SIZE = 512

    def __init__(self) -> None:
        super().__init__(base_class=FoldedOnce)
        self._classes: dict[str, type] = {}
        self._reused = lru_cache(maxsize=self.SIZE, typed=True)(self._make)

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if key not in self._classes:
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]

    def _make(self, name: str, value) -> BaseHeader:
        return self[name](name, value)

    def __call__(self, name: str, value):
        try:
            return self._reused(name, value)
        except TypeError:  # a value that can't be a key (not hashable)
            return self._make(name, value)


# The policies Django writes messages with, each with the reusing registry.
_POLICIES = {
    policy: policy.clone(header_factory=ReusingRegistry())
    for policy in (email.policy.default, email.policy.SMTP, email.policy.SMTPUTF8)
}


class WorkerEmail(EmailMultiAlternatives):
    """`EmailMultiAlternatives` whose `message()` uses the reusing registry
    with whichever of Django's policies it is asked for."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=_POLICIES.get(policy, policy))
