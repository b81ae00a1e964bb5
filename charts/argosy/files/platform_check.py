"""Platform checks the chart runs inside the cluster with the Argosy image.

    python platform_check.py database --wait 300          metadata service init container
    python platform_check.py store --create-bucket --wait 300   bucket job (hook)
    python platform_check.py metadata store               `helm test`

Each check uses Argosy's own code with the settings of the environment (ARGOSY_*), the same
settings compiled workflows give their pods, so a passing check means workflow pods can reach
what they need. With --wait, failing checks are retried until the time is up. Exit 0 iff every
check passed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from argosy.config import Settings

PROBE = b"argosy platform check\n"


def check_database(settings: Settings) -> str:
    """The metadata database (ARGOSY_DATABASE_URL) accepts connections."""
    import sqlalchemy

    if not settings.database_url:
        raise RuntimeError("ARGOSY_DATABASE_URL is not set")
    # a short connect timeout: a connection tried before the Service's rules exist hangs for
    # minutes (its first packet is never translated); a new one right after gets through
    engine = sqlalchemy.create_engine(settings.database_url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    finally:
        engine.dispose()
    return f"database {engine.url.host}:{engine.url.port}/{engine.url.database} answers"


def check_store(settings: Settings) -> str:
    """The artifact store answers (creating the bucket when asked to) and keeps what it is given."""
    from argosy.store import open_store

    store = open_store(settings)
    store.check()
    digest = store.put_bytes(PROBE)
    if store.get_bytes(digest) != PROBE:
        raise RuntimeError(f"bucket {settings.s3_bucket} returned other bytes than were written")
    return f"bucket {settings.s3_bucket} at {settings.s3_endpoint} is readable and writable"


def check_metadata(settings: Settings) -> str:
    """The metadata service is ready and the workflow token may record runs (write scope)."""
    from argosy.metadata import open_sink

    if not settings.metadata_url:
        raise RuntimeError("ARGOSY_METADATA_URL is not set")
    open_sink(settings).check()
    return f"metadata service {settings.metadata_url} is ready and the token may write"


CHECKS: dict[str, Callable[[Settings], str]] = {
    "database": check_database,
    "store": check_store,
    "metadata": check_metadata,
}


def run_check(name: str, settings: Settings, wait: float) -> bool:
    """Run one check, retrying until `wait` seconds have passed; print the outcome."""
    deadline = time.monotonic() + wait
    while True:
        try:
            print(f"ok: {CHECKS[name](settings)}", flush=True)
            return True
        except Exception as error:  # any failure is retried, then reported
            if time.monotonic() >= deadline:
                print(f"FAILED {name}: {type(error).__name__}: {error}", file=sys.stderr)
                return False
            print(f"waiting for {name}: {error}", file=sys.stderr, flush=True)
            time.sleep(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checks", nargs="+", choices=sorted(CHECKS))
    parser.add_argument("--wait", type=float, default=0, help="retry for this many seconds")
    parser.add_argument("--create-bucket", action="store_true", help="create a missing bucket")
    args = parser.parse_args(argv)
    settings = Settings(s3_create_bucket=True) if args.create_bucket else Settings()
    results = [run_check(name, settings, args.wait) for name in args.checks]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
