"""shenbao export-applications [-o FILE] — every application with its versions, snapshots, related rows
and file hashes as canonical JSON (identical for identical data: compares a restore with its original)."""

import sys

from django.core.management.base import BaseCommand

from shenbao.applications import export


class Command(BaseCommand):
    help = "Dump every application with its snapshots, related rows and file hashes as canonical JSON."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", help="write to this file (default: standard output)")

    def handle(self, *args, output: str | None = None, **options):
        text = export.canonical_json(export.export_all()) + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
