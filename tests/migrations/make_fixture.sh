#!/usr/bin/env bash
# Make fixtures/demo_before_recut.sql: the demo clinic in PostgreSQL at the schema from before
# models moved between apps (issue 10), which test_moves_keep_data.py restores and migrates.
#
# THE FIXTURE IS A FROZEN SNAPSHOT OF THE SCHEMA BEFORE THE RE-CUT. DO NOT REGENERATE IT FROM
# LATER CODE. It stands for the databases already in production; the test migrates it with the
# code of the day and checks that no row, constraint or permission was lost. Made from a later
# commit it would already have the new layout, and the test would prove nothing. So this script
# never builds from the working tree: it exports the commit recorded in fixtures/demo_before_recut.json
# (or the one given, for a first build only) and runs that tree's migrate and seed_demo.
#
# Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything tests/migrations/make_fixture.sh [COMMIT]
# Needs:  git; psql and pg_dump of the server's major version; the repository's .venv (PYTHON to
#         override). DATABASE_URL names the server, as a user who may create databases; its own
#         database is left alone: the build runs in a temporary one, dropped at the end.
#
# How the fixture of record was made (see the JSON for the commit, date and versions):
#   1. `manage.py migrate` on an empty database, then `manage.py seed_demo` (it has no options),
#      with TIME_ZONE=America/New_York, the settings' default, and no REDIS_URL (the seed
#      enqueues nothing; the build must not touch a shared broker);
#   2. the rows the demo leaves out, so that every table a move touches has some: time off, two
#      calendar feeds, a reschedule request, a reminder rule, a rule override, and one admin
#      LogEntry for every model that has rows (the rows a content type relabelling must keep);
#   3. `pg_dump --format=plain --no-owner --no-privileges` (COPY; psql restores it), without the
#      \restrict/\unrestrict lines recent pg_dump releases add, which older psql refuse and which
#      guard against a hostile server, not against a file reviewed in git.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
python=${PYTHON:-$repo/.venv/bin/python}
record="$here/fixtures/demo_before_recut.json"
fixture="$here/fixtures/demo_before_recut.sql"
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL server to build on}"
for tool in git psql pg_dump; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: install the PostgreSQL client" >&2; exit 1; }
done

if [[ $# -ge 1 ]]; then
  commit=$1
elif [[ -f $record ]]; then
  commit=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["commit"])' "$record")
else
  echo "usage: $0 COMMIT (no $record to read the commit from)" >&2
  exit 2
fi
commit=$(git -C "$repo" rev-parse --verify "$commit^{commit}")

build=$(mktemp -d)
database="kc_fixture_$(date +%s)_$$"
server=${DATABASE_URL%/*}
url="$server/$database"
cleanup() {
  psql -X -q "$server/postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null || true
  rm -rf "$build"
}
trap cleanup EXIT

git -C "$repo" archive "$commit" | tar -x -C "$build"
psql -X -q -v ON_ERROR_STOP=1 "$server/postgres" -c "CREATE DATABASE $database TEMPLATE template0"

run() {
  (cd "$build" && env -u REDIS_URL DATABASE_URL="$url" TIME_ZONE=America/New_York DEBUG=1 \
    DJANGO_SETTINGS_MODULE=ketaminecare.settings "$python" manage.py "$@")
}
run migrate --noinput -v0
run seed_demo
run shell <<'PY'
import datetime as dt

from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from courses.models import Patient, TreatmentProtocol
from courses.services import reschedule_request_create
from sessions.models import ReminderKind, ReminderRule, RuleOverride, StaffMember, TreatmentSession
from sessions.scheduling import Rule
from sessions.services.feeds import feed_issue
from sessions.services.staff_time import time_off_record

now = timezone.now()
admin = get_user_model().objects.get(username="admin")
therapist = StaffMember.objects.get(user__username="therapist.nguyen")
avery = Patient.objects.get(user__username="patient.avery")

time_off_record(staff_id=therapist.pk, starts_at=now + dt.timedelta(days=30),
                ends_at=now + dt.timedelta(days=32), reason="Conference", now=now)
feed_issue(owner=("staff", therapist.pk), now=now)
feed_issue(owner=("patient", avery.pk), now=now)
upcoming = TreatmentSession.objects.filter(patient=avery, status="scheduled").order_by("starts_at").first()
reschedule_request_create(patient_id=avery.pk, session_id=upcoming.pk, message="Could we make it an afternoon?")
ReminderRule.objects.create(protocol=TreatmentProtocol.objects.get(name="Esketamine nasal spray"),
                            kind=ReminderKind.SESSION_PREPARE, minutes_before=24 * 60)
done = TreatmentSession.objects.filter(status="completed").order_by("starts_at").first()
RuleOverride.objects.create(session=done, rule=Rule.MIN_GAP, reason="Demo: the patient's only free day.",
                            authorised_by=get_user_model().objects.get(username="dr.lee"))

for model in apps.get_models():
    first = model._default_manager.order_by("pk").first()
    if model is not LogEntry and first is not None:
        LogEntry.objects.create(user=admin, content_type=ContentType.objects.get_for_model(model),
                                object_id=str(first.pk), object_repr=str(first)[:200],
                                action_flag=ADDITION, change_message='[{"added": {}}]')
stale = [f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all() if ct.model_class() is None]
assert not stale, f"stale content types in the fixture: {stale}"
PY

{
  echo "-- A FROZEN SNAPSHOT of the demo clinic at the schema before the re-cut (issue 10)."
  echo "-- Made by tests/migrations/make_fixture.sh from commit $commit; never regenerate it from later code."
  echo
  pg_dump --format=plain --no-owner --no-privileges "$url" | sed -E '/^\\(un)?restrict /d'
} >"$fixture"

"$python" - "$record" "$fixture" "$commit" "$url" <<'PY'
import datetime as dt
import hashlib
import json
import subprocess
import sys

record, fixture, commit, url = sys.argv[1:]
server = subprocess.run(["psql", "-X", "-At", url, "-c", "SHOW server_version"], check=True, capture_output=True, text=True)
migrations = subprocess.run(
    ["psql", "-X", "-At", url, "-c", "SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app"],
    check=True, capture_output=True, text=True,
)
info = {
    "commit": commit,
    "made_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    "made_by": "tests/migrations/make_fixture.sh",
    "fixture": "demo_before_recut.sql",
    "sha256": hashlib.sha256(open(fixture, "rb").read()).hexdigest(),
    "postgresql": server.stdout.strip(),
    "pg_dump": subprocess.run(["pg_dump", "--version"], check=True, capture_output=True, text=True).stdout.strip(),
    "time_zone": "America/New_York",
    "migrations": dict(line.split("|") for line in migrations.stdout.split()),
}
with open(record, "w") as out:
    json.dump(info, out, indent=2)
    out.write("\n")
PY
echo "wrote $fixture ($(wc -c <"$fixture") bytes) from $commit"
