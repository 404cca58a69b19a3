from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render


@login_required
def home(request):
    return render(request, "orgs/home.html", {})


def register(request):
    return render(request, "orgs/register.html", {})


def lockout(request, credentials=None, *args, **kwargs):
    return HttpResponse("账户已锁定：连续5次登录失败，请30分钟后再试。", status=403)
