"""Production's static files storage, forgiving where a page would otherwise fail.

WhiteNoise's `CompressedManifestStaticFilesStorage` raises ValueError for a file
missing from the manifest (or for every file when `collectstatic` never ran), so
`{% static %}` turns any page, the 404 page included, into a server error. This
storage logs the miss as an error and links the file by its plain name instead:
the page still renders (unstyled at worst) and the log says what to fix."""

import logging

from django.contrib.staticfiles.storage import StaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class ForgivingManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def url(self, name: str | None, force: bool = False) -> str:
        try:
            return super().url(name, force)
        except ValueError:
            logger.error("static file %r is not in the manifest: run collectstatic", name)
            return StaticFilesStorage.url(self, name)

    def url_if_listed(self, name: str) -> str | None:
        """The hashed URL of `name` if the manifest lists it, else None, quietly:
        for WhiteNoise's guesses at the unhashed name of every file that looks
        hashed (most guesses name no file at all; `dinnerparty.middleware`)."""
        try:
            return super().url(name)
        except ValueError:
            return None
