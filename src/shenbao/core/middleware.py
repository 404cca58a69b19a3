"""Chinese first: the interface is Chinese until the user presses the language switch (a cookie), whatever
the browser's Accept-Language says; Django's LocaleMiddleware would otherwise follow the header."""


class ChineseFirstMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
