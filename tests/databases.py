"""Test databases made by copying one migrated template instead of migrating each.

Every xdist worker needs a database of its own, and migrating one from nothing costs several
seconds of CPU (more on PostgreSQL): six workers paid it six times a run, on every run. Here
the first worker to get the lock migrates a template once, named by a digest of the
migrations and the installed packages (so a new migration or a dependency upgrade makes a new
one); each worker then copies it (a file copy on SQLite, CREATE DATABASE … TEMPLATE on
PostgreSQL) and Django only confirms there is nothing left to migrate. The template is kept
between runs, so a second `make test` migrates nothing at all."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "var" / "test-template.lock"
TEMPLATE_PREFIX = "test-template-"


def schema_digest() -> str:
    """Changes whenever the schema a migrated database would have can change."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    packages = sorted(
        f"{dist.metadata['Name']}=={dist.version}" for dist in importlib.metadata.distributions()
    )
    digest.update("\n".join(packages).encode())
    return digest.hexdigest()[:16]


@contextmanager
def held(path: Path):
    """An exclusive lock across the workers' processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(database_url: str) -> None:
    """Migrates the database at the URL in a process of its own, as `make run` would (the
    test process's connections and settings stay untouched)."""
    environment = {**os.environ, "DATABASE_URL": database_url}
    for command in (["migrate", "--noinput"], ["createcachetable"]):
        subprocess.run(
            [sys.executable, "manage.py", *command, "-v", "0"],
            cwd=ROOT,
            env=environment,
            check=True,
        )


def copy_template(alias: str = "default") -> None:
    """Puts a migrated copy of the template where the worker's test database goes."""
    database = settings.DATABASES[alias]
    test_name = database.get("TEST", {}).get("NAME")
    digest = schema_digest()
    with held(LOCK):
        if database["ENGINE"].endswith("sqlite3"):
            _sqlite_copy(Path(test_name), digest)
        elif database["ENGINE"].endswith("postgresql"):
            _postgres_copy(database, test_name or f"test_{database['NAME']}", digest)


def _sqlite_copy(test_path: Path, digest: str) -> None:
    template = ROOT / "var" / f"{TEMPLATE_PREFIX}{digest}.sqlite3"
    if not template.exists():
        for stale in template.parent.glob(f"{TEMPLATE_PREFIX}*.sqlite3"):
            stale.unlink()
        building = template.with_suffix(".building")
        building.unlink(missing_ok=True)
        migrate(f"sqlite:///{building}")
        building.rename(template)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{test_path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, test_path)


def _postgres_copy(database: dict, test_name: str, digest: str) -> None:
    import psycopg
    from psycopg import sql

    template = f"test_template_{digest}"
    user = database.get("USER") or "postgres"
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    password = database.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    with psycopg.connect(
        host=host, port=port, user=user, password=password, dbname="postgres", autocommit=True
    ) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
        if not exists:
            stale = admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", ["test\\_template\\_%"]
            ).fetchall()
            for (name,) in stale:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            building = f"{template}_building"
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(building)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
            migrate(f"postgres://{auth}{host}:{port}/{building}")
            admin.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(building), sql.Identifier(template)
                )
            )
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(test_name))
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(test_name), sql.Identifier(template)
            )
        )
