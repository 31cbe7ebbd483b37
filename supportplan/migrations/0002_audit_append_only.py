"""On PostgreSQL the audit table refuses UPDATE and DELETE, whoever connects.

The only update allowed is the one Django makes when a user is deleted (actor set to NULL;
``actor_email`` keeps who it was). SQLite development databases rely on the model's guard.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION supportplan_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The audit trail is append-only: rows cannot be deleted';
    END IF;
    IF NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
       AND ROW(NEW.id, NEW.timestamp, NEW.action, NEW.object_pk, NEW.object_repr, NEW.changes,
               NEW.changes_text, NEW.content_type_id, NEW.additional_data, NEW.plan_id, NEW.api_key_id,
               NEW.actor_email)
           IS NOT DISTINCT FROM
           ROW(OLD.id, OLD.timestamp, OLD.action, OLD.object_pk, OLD.object_repr, OLD.changes,
               OLD.changes_text, OLD.content_type_id, OLD.additional_data, OLD.plan_id, OLD.api_key_id,
               OLD.actor_email) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'The audit trail is append-only: rows cannot be changed';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER supportplan_audit_append_only
BEFORE UPDATE OR DELETE ON supportplan_auditentry
FOR EACH ROW EXECUTE FUNCTION supportplan_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS supportplan_audit_append_only ON supportplan_auditentry;
DROP FUNCTION IF EXISTS supportplan_audit_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("supportplan", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
