from django.shortcuts import redirect
from django.urls import reverse

from shenbao.orgs import selectors


class ForcePasswordChangeMiddleware:
    """A user who must change the password (first login, or an administrator's password older than 90
    days) sees only the change page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and (
                getattr(user, "must_change_password", False) or selectors.password_expired(user)):
            allowed = {reverse("orgs:password_change"), reverse("orgs:logout")}
            if (request.path not in allowed and not request.path.startswith("/accounts/password/set/")
                    and not request.path.startswith(("/static/", "/i18n/"))):
                return redirect("orgs:password_change")
        return self.get_response(request)
