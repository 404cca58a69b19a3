"""shenbao backup DIR — the database (SQLite online backup or pg_dump -Fc) and the media tree into a new
directory, with manifest.json (sha256 of every file); files 0600, directories 0700."""

from django.core.management.base import BaseCommand, CommandError

from shenbao.core import audit, backup


class Command(BaseCommand):
    help = "Back up the database and the media files into DIR (new or empty), with a manifest of hashes."

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, *args, directory: str, **options):
        try:
            summary = backup.backup(directory)
        except backup.BackupError as e:
            raise CommandError(str(e)) from e
        audit.record(action="system.backup", actor_name="shenbao backup", note=str(summary.directory),
                     after={"engine": summary.engine, "files": summary.files, "bytes": summary.bytes,
                            "manifest_sha256": summary.manifest_sha256})
        self.stdout.write(f"backup written to {summary.directory}: {summary.files} files, {summary.bytes} bytes")
        self.stdout.write(f"manifest.json sha256 {summary.manifest_sha256} (keep it apart from the backup)")
