"""Site-wide middleware: Chinese first, and the security headers of every response."""

from __future__ import annotations

import contextlib

from django.http import FileResponse


class ChineseFirstMiddleware:
    """Chinese first: the interface is Chinese until the user presses the language switch (a cookie),
    whatever the browser's Accept-Language says; Django's LocaleMiddleware would otherwise follow the header."""

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


# --- response headers: CSP, no-store, downloads --------------------------------------------------------
# A small middleware rather than django-csp: the policy is one constant string (no nonces, no per-view
# relaxations, no report endpoint), so a dependency would add settings and a decorator API for a single
# header; Django 6 brings its own CSP middleware, which this can be swapped for then.
#
# R-S1  every response carries CONTENT_SECURITY_POLICY: scripts only from our own origin, no inline script
#       or style (htmx is configured by <meta name="htmx-config"> not to inject its indicator <style>),
#       no plugins, no framing, forms post only to us.
# R-S2  every response to a logged-in user, and every download, is `Cache-Control: no-store`: a shared
#       computer's browser cache or an intermediate proxy must not keep an application or a scan.
# R-S3  a download (Content-Disposition: attachment, or a file response) gets a sandboxing CSP: an uploaded
#       PDF or image opened anyway runs no script and has an opaque origin (it cannot read our cookies/pages).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOWNLOAD_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"


def is_download(response) -> bool:
    return isinstance(response, FileResponse) or response.get("Content-Disposition", "").lower().startswith(
        "attachment")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        download = is_download(response)
        response["Content-Security-Policy"] = DOWNLOAD_POLICY if download else CONTENT_SECURITY_POLICY
        user = getattr(request, "user", None)
        if download or (user is not None and user.is_authenticated):
            response["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response


class QueryCountMiddleware:
    """BENCHMARKS ONLY (SHENBAO_BENCH_QUERY_HEADER=1, never in a deployment): the number of SQL statements a
    request ran, in an `X-Shenbao-Queries` response header, so that bench/bench_flow.py can print queries per
    step of a flow measured over HTTP against the real server."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.db import connections

        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with contextlib.ExitStack() as stack:
            for conn in connections.all(initialized_only=False):
                stack.enter_context(conn.execute_wrapper(counter))
            response = self.get_response(request)
        response["X-Shenbao-Queries"] = str(count)
        return response
