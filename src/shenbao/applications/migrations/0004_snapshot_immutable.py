"""Snapshots are never changed: the database refuses an UPDATE whatever code tries, and on PostgreSQL a
DELETE too (its test flush uses TRUNCATE, which row triggers do not see). On SQLite a delete is stopped by
the PROTECT foreign keys that point at every snapshot (the application's current version, scans,
endorsements) and by the services, which never delete; a SQLite delete trigger would break the test
runner's flush, which empties tables with DELETE in no fixed order."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER applications_snapshot_no_update BEFORE UPDATE ON applications_snapshot
       BEGIN SELECT RAISE(ABORT, 'applications_snapshot is immutable'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS applications_snapshot_no_update",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION applications_snapshot_immutable() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'applications_snapshot is immutable'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER applications_snapshot_no_change BEFORE UPDATE OR DELETE ON applications_snapshot
       FOR EACH ROW EXECUTE FUNCTION applications_snapshot_immutable()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS applications_snapshot_no_change ON applications_snapshot",
    "DROP FUNCTION IF EXISTS applications_snapshot_immutable()",
]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [("applications", "0003_journey")]

    operations = [
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRES}),
                             _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})),
    ]
