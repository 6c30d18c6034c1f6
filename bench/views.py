from django.http import HttpRequest, HttpResponse


def hello_world(request: HttpRequest) -> HttpResponse:
    """The benchmark's ceiling: a constant response through the full middleware."""
    return HttpResponse(b"Hello, world", content_type="text/plain")
