"""shenbao load-call FILE…  — load (or reload) call files and catalogues; idempotent."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shenbao.calls import schema, services


class Command(BaseCommand):
    help = "Load call YAML files (and catalogue files) into the database. Loading the same file twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="calls/*.yaml, or a directory of them")
        parser.add_argument("--publish", action="store_true", help="publish the loaded calls")

    def handle(self, *args, files=(), publish=False, **options):
        paths: list[Path] = []
        for f in files:
            p = Path(f)
            if p.is_dir():
                paths.extend(sorted(p.glob("*.yaml")))
            elif p.exists():
                paths.append(p)
            else:
                raise CommandError(f"{f}: 文件不存在")
        # catalogues first: calls name their categories
        paths.sort(key=lambda p: schema.parse_yaml(p.read_text("utf-8"), str(p)).get("kind") != "catalogue")
        failed = False
        for p in paths:
            try:
                r = services.load_path(path=p, publish=True if publish else None)
            except (schema.CallFormatError, services.CallInUseError) as exc:
                self.stderr.write(str(exc))
                failed = True
                continue
            if r.call is None:
                self.stdout.write(f"{p}: 类别 {r.categories} 个")
            else:
                state = "新建" if r.created else ("已更新" if r.changed else "无变化")
                self.stdout.write(f"{p}: {r.call.code} {state}（{r.call.types.count()} 个项目类型）")
        if failed:
            raise CommandError("有文件未能载入，见上")
