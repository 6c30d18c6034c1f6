from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from accounts.models import User
from parties.models import Notice


class NoticeMiddleware:
    """Turn stored notices (e.g. "moved from the waitlist to the table") into
    flash messages on the user's next page view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            request.method == "GET"
            and user is not None
            and user.is_authenticated
            and user.has_notices
        ):
            self.deliver(request, user)
        return self.get_response(request)

    def deliver(self, request: HttpRequest, user) -> None:
        # Flag first, notices second: a notice stored in between is read now, or
        # sets the flag again for the next page. None is lost.
        User.objects.filter(pk=user.pk).update(has_notices=False)
        user.has_notices = False
        notices = list(Notice.objects.filter(user=user).values_list("pk", "text"))
        if not notices:
            return
        Notice.objects.filter(pk__in=[pk for pk, _text in notices]).delete()
        for _pk, text in notices:
            messages.success(request, text)
