"""shenbao load-catalogue [FILE] — load the platform's catalogue (categories, attributes, measures).

The catalogue is the system administrator's: this command (run on the server) and the system administrator's
page change it; a call file may only use it. The change is audited with before and after.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shenbao.calls import schema, services


class Command(BaseCommand):
    help = "Load the catalogue of categories, attributes and measures (default: calls/catalogue.yaml)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="a catalogue YAML file (default: catalogue.yaml in the calls dir)")

    def handle(self, *args, file=None, **options):
        path = Path(file) if file else Path(settings.CALLS_DIR) / "catalogue.yaml"
        if not path.exists():
            raise CommandError(f"{path}: 文件不存在")
        try:
            result = services.load_catalogue(text=path.read_text("utf-8"), filename=str(path))
        except schema.CallFormatError as exc:
            raise CommandError(str(exc)) from exc
        state = "已更新" if result.changed else "无变化"
        self.stdout.write(f"{path}: 目录{state}（类别 {result.categories} 个）")
