"""The audit chain's head follows each new event by a database trigger (AFTER INSERT ON core_auditevent), so a
writer locks and reads the head, then inserts the event: two statements per event instead of three. The head
still moves only with an inserted event, in the same transaction."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER core_audit_chain_advance AFTER INSERT ON core_auditevent
       WHEN NEW.seq IS NOT NULL
       BEGIN UPDATE core_auditchainhead SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS core_audit_chain_advance"]

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION core_audit_chain_advance() RETURNS trigger AS $$
       BEGIN
         UPDATE core_auditchainhead SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER core_audit_chain_advance AFTER INSERT ON core_auditevent
       FOR EACH ROW WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION core_audit_chain_advance()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS core_audit_chain_advance ON core_auditevent",
    "DROP FUNCTION IF EXISTS core_audit_chain_advance()",
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0005_holiday")]

    operations = [
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
                             _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})),
    ]
