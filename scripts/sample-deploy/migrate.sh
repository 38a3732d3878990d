#!/bin/sh
# A sample database migration that fails the way real ones do: some progress, a warning on
# stderr, a secret in a connection string (redacted before it leaves the host), then an error.
echo "connecting to postgres://deploy:s3cr3t-pass@db.internal:5432/api"
for step in 0041_add_orders 0042_backfill_orders 0043_orders_index; do
  echo "applying $step ... ok"
done
echo "WARNING: table orders has 2 million rows, index build may be slow" >&2
echo "applying 0044_add_users_email_unique ..."
echo "ERROR: could not create unique index \"users_email_key\"" >&2
echo "DETAIL: Key (email)=(a@example.com) is duplicated." >&2
exit 3
