"""Shared pytest set-up: real servers (Postgres, S3) come from the plugins in tests/servers/."""

pytest_plugins = ["tests.servers.postgres", "tests.servers.s3"]
