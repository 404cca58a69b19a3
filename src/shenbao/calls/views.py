from django.shortcuts import render

from shenbao.calls import selectors


def portal(request):
    return render(request, "calls/portal.html", {"calls": selectors.public_calls()})
