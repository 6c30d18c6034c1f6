from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from parties.models import Notice


class NoticeMiddleware:
    """Turn stored notices (e.g. "moved from the waitlist to the table") into
    flash messages on the user's next page view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if request.method == "GET" and user is not None and user.is_authenticated:
            self.deliver(request, user)
        return self.get_response(request)

    def deliver(self, request: HttpRequest, user) -> None:
        notices = list(Notice.objects.filter(user=user).values_list("pk", "text"))
        if not notices:
            return
        Notice.objects.filter(pk__in=[pk for pk, _text in notices]).delete()
        for _pk, text in notices:
            messages.success(request, text)
