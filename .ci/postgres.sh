#!/usr/bin/env bash
# Install (Debian) and start a PostgreSQL server on loopback for the storage tests; writes the URL to
# /tmp/autolearn-ci-postgres.env. Exits non-zero when the server cannot be started.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >/dev/null
fi
pg_ctlcluster "$version" main start || pg_ctlcluster "$version" main status >/dev/null
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='autolearn'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE autolearn LOGIN PASSWORD 'autolearn'\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='autolearn_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O autolearn autolearn_test"
python -m pip install -q psycopg2-binary
echo "export AUTOLEARN_TEST_POSTGRES_URL=postgresql+psycopg2://autolearn:autolearn@127.0.0.1:5432/autolearn_test" \
  > /tmp/autolearn-ci-postgres.env
echo "PostgreSQL $version running on 127.0.0.1:5432"
