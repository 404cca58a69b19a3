"""The `shenbao` console command: Django's management commands, with dashes allowed (`load-call`)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shenbao.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
        if args[1] == "help" and len(args) > 2 and not args[2].startswith("-"):
            args[2] = args[2].replace("-", "_")  # `shenbao help load-call`
    execute_from_command_line(["shenbao", *args[1:]])


if __name__ == "__main__":
    main()
