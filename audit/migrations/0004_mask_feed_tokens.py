"""Mask the calendar-feed tokens that feed reads wrote into the trail's paths before 0.1 stopped it.

A feed's URL is its credential, and those rows kept it in plain text for anyone who reads the
trail. The trail is append-only for the application; this one correction is made by the owner of
the table, the role migrations run as, with the row trigger off for the length of the statement.
"""

import re

from django.db import migrations

FEED_TOKEN = re.compile(r"(/feeds/)[^/\s]+(\.ics)")

POSTGRES = r"""
ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete;
UPDATE audit_auditevent
   SET path = regexp_replace(path, '(/feeds/)[^/[:space:]]+(\.ics)', '\1***\2', 'g')
 WHERE path ~ '/feeds/[^/[:space:]]+\.ics' AND path !~ '/feeds/\*\*\*\.ics';
ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete;
"""


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES, params=None)
        return
    # SQLite has no trigger and no regexp_replace: the rows are rewritten one by one.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, path FROM audit_auditevent WHERE path LIKE '%%/feeds/%%.ics%%'")
        for event_id, path in cursor.fetchall():
            masked = FEED_TOKEN.sub(r"\1***\2", path)
            if masked != path:
                cursor.execute("UPDATE audit_auditevent SET path = %s WHERE id = %s", [masked, event_id])


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_refuse_truncate")]

    # Nothing to undo: the tokens are gone, as they should be.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
