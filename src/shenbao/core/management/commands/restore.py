"""shenbao restore DIR [--force] — verify the backup's manifest, then restore the database and the media
tree into the configured ones (refused if the database already holds data, unless --force)."""

from django.core.management.base import BaseCommand, CommandError

from shenbao.core import audit, backup


class Command(BaseCommand):
    help = "Restore a backup made by `shenbao backup` into the configured database and media directory."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--force", action="store_true",
                            help="overwrite a database and media directory that already hold data")
        parser.add_argument("--verify-only", action="store_true", help="check the manifest and stop")

    def handle(self, *args, directory: str, force: bool = False, verify_only: bool = False, **options):
        try:
            if verify_only:
                manifest = backup.verify(directory)
                self.stdout.write(f"backup intact: {len(manifest['files'])} files")
                return
            manifest = backup.restore(directory, force=force)
        except backup.BackupError as e:
            raise CommandError(str(e)) from e
        audit.record(action="system.restore", actor_name="shenbao restore", note=str(directory),
                     after={"engine": manifest["engine"], "files": len(manifest["files"]),
                            "backup_created_at": manifest["created_at"], "force": force})
        self.stdout.write(f"restored {len(manifest['files'])} files from {directory} "
                          f"(backup of {manifest['created_at']})")
