"""shenbao demo-otp USER — the current 6-digit code of a demo administrator's second factor (demo only)."""

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from shenbao.orgs.models import User


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo administrator (accounts made by `shenbao demo` only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None or not user.is_demo:
            raise CommandError(f"{username}：不是演示账户。只有 shenbao demo 建立的演示账户可以这样取得动态验证码。")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username}：没有绑定动态验证码（不是管理员，或已被重置：登录时会重新绑定）。")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
