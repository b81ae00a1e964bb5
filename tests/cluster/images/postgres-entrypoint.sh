#!/bin/sh
# Start PostgreSQL as the chart expects of its image. On the first start (an empty PGDATA):
# initdb with POSTGRES_USER and POSTGRES_PASSWORD, create POSTGRES_DB, run the *.sql files of
# /docker-entrypoint-initdb.d in it; then serve on every address, password required over TCP.
set -eu
: "${PGDATA:?PGDATA must name the data directory}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
database="${POSTGRES_DB:-$POSTGRES_USER}"
socket_dir=/var/run/postgresql

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    password_file="$(mktemp)"
    printf '%s' "$POSTGRES_PASSWORD" > "$password_file"
    initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$password_file" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    pg_ctl --pgdata="$PGDATA" --wait --options="-c listen_addresses='' -k $socket_dir" start
    if [ "$database" != postgres ]; then
        psql --host="$socket_dir" --username="$POSTGRES_USER" --dbname=postgres \
            --set=ON_ERROR_STOP=1 --command="CREATE DATABASE \"$database\""
    fi
    for script in /docker-entrypoint-initdb.d/*.sql; do
        [ -e "$script" ] || continue
        psql --host="$socket_dir" --username="$POSTGRES_USER" --dbname="$database" \
            --set=ON_ERROR_STOP=1 --file="$script"
    done
    pg_ctl --pgdata="$PGDATA" --wait --mode=fast stop
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -k "$socket_dir"
