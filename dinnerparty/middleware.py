import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# An incoming id is kept only if it is short and plain (no log injection).
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class RequestIdMiddleware:
    """Tag each request with an id (the incoming X-Request-ID if sane), put it
    on every log line of the request, and send it back in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class PermissionsPolicyMiddleware:
    """Turn off browser features DinnerParty never uses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, asking the storage quietly when it guesses at an unhashed name
    (to tell which files are hashed, so cached for ever): the production
    storage logs a miss as an error, meant for pages that link a missing file,
    and WhiteNoise's start-up guesses logged ~50 of them on every start."""

    def get_static_url(self, name: str) -> str | None:
        quiet = getattr(staticfiles_storage, "url_if_listed", None)
        return quiet(name) if quiet is not None else super().get_static_url(name)
