#!/usr/bin/env bash
# Prepares Superset's metadata database, the admin user and the Trino connection, then serves.
# Every step is idempotent, so a restart repeats them harmlessly.
set -euo pipefail
superset db upgrade
superset fab create-admin --username "${SUPERSET_ADMIN_USER}" --password "${SUPERSET_ADMIN_PASSWORD}" \
  --firstname Admin --lastname User --email "${SUPERSET_ADMIN_USER}@localhost" || true
superset init
superset set-database-uri --database_name "Trino lake" --uri "${SUPERSET_TRINO_URI}"
exec /usr/bin/run-server.sh
