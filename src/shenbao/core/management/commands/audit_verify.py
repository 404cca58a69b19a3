"""shenbao audit-verify — check the audit log's hash chain; exit status 1 at the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from shenbao.core.verify import verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain: print OK with the number of events, or the first broken link."

    def handle(self, *args, **options):
        verdict = verify()
        if not verdict.ok:
            raise CommandError(verdict.text())
        self.stdout.write(verdict.text())
