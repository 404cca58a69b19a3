"""Chinese first: the interface is Chinese until the user presses the language switch (a cookie), whatever
the browser's Accept-Language says; Django's LocaleMiddleware would otherwise follow the header."""


class ChineseFirstMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class BadInputMiddleware:
    """A view that raises core.http.BadInput answers 400 with the message: JSON for the API and for requests
    that ask for JSON, else the site's page with the message (core/bad_request.html)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from shenbao.core.http import BadInput

        if isinstance(exception, BadInput):
            return bad_request_response(request, exception.message)
        return None


def wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def bad_request_response(request, message: str, *, status: int = 400):
    from django.http import JsonResponse
    from django.shortcuts import render

    if wants_json(request):
        return JsonResponse({"ok": False, "detail": message, "message": message}, status=status)
    return render(request, "core/bad_request.html", {"message": message}, status=status)
