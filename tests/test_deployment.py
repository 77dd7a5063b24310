"""The deployment files, checked without a Docker engine (none runs on our machines): the
Dockerfile is linted by hadolint, compose.yaml is parsed and its shape asserted, the
entrypoint is parsed by the shell, the example env names only settings the app reads, and
collectstatic (as the image runs it) gives the browser ES modules that import hashed files."""

from __future__ import annotations

import json
import posixpath
import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


@pytest.mark.parametrize(
    "dockerfile",
    [
        "Dockerfile",
        "podman/postgres/Dockerfile",
        "podman/redis/Dockerfile",
        "podman/nginx/Dockerfile",
    ],
)
def test_the_dockerfiles_pass_hadolint(dockerfile):
    hadolint = shutil.which("hadolint") or str(Path(__file__).parents[1] / ".venv/bin/hadolint")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "warning", str(DOCKER / dockerfile)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_non_root_user_with_a_health_check():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    # A real deployment builds on the official image; scripts/stack.sh passes its own base.
    assert re.search(r"^ARG BASE=python:3\.\d+-slim$", dockerfile, re.M)
    assert re.findall(r"^FROM (\S+)", dockerfile, re.M) == ["${BASE}", "${BASE}"]
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    assert "collectstatic --noinput" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile


def test_the_entrypoint_is_valid_shell_with_every_role():
    entrypoint = DOCKER / "entrypoint.sh"
    subprocess.run(["sh", "-n", str(entrypoint)], check=True)
    text = entrypoint.read_text()
    for role in ("migrate)", "web)", "worker)", "sandbox)"):
        assert role in text
    assert "gunicorn config.wsgi:application" in text


def test_the_web_role_runs_gunicorn_with_the_repository_config():
    assert "--config /app/gunicorn.conf.py" in (DOCKER / "entrypoint.sh").read_text()
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^COPY .*\bgunicorn\.conf\.py .*\./$", dockerfile, re.M)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["worker_class"] == "gthread"
    assert config["workers"] >= 1 and config["threads"] >= 1
    assert config["wsgi_app"] == "config.wsgi:application"


def test_the_gunicorn_config_names_only_settings_gunicorn_knows():
    """gunicorn ignores a misspelt setting in its config file without a word."""
    from gunicorn.config import Config

    known = set(Config().settings) | {"control_socket_disable"}  # gunicorn 27+
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    helpers = {"annotations", "cores", "os", "SHM"}
    names = {name for name in config if not name.startswith("_")} - helpers
    assert names <= known, names - known


def test_compose_has_two_web_and_two_worker_replicas_behind_a_proxy(compose):
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "proxy", "sandbox"} <= set(services)
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["web"]["command"] == ["web"] and services["worker"]["command"] == ["worker"]
    assert services["proxy"]["ports"] == ["${PROXY_PUBLISH:-8000}:80"]
    assert services["sandbox"]["profiles"] == ["demo"]


def test_web_and_workers_wait_for_one_migration_and_healthy_services(compose):
    services = compose["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["postgres"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}
        assert services[name]["env_file"] == "${CALENDAR_ENV_FILE:-.env}"


def test_the_podman_override_publishes_only_on_loopback_and_builds_from_the_local_base():
    services = yaml.safe_load((DOCKER / "compose.podman.yaml").read_text())["services"]
    script = (ROOT / "scripts" / "stack.sh").read_text()
    # compose.yaml publishes nginx at PROXY_PUBLISH and reads CALENDAR_ENV_FILE; here both
    # point at this machine's loopback and the generated env file.
    assert "ports" not in services["proxy"]
    assert 'PROXY_PUBLISH="127.0.0.1:$STACK_PORT"' in script
    assert 'CALENDAR_ENV_FILE="$ROOT/var/stack/stack.env"' in script
    for name in ("postgres", "redis", "proxy"):
        assert services[name]["build"]["args"] == {"BASE": "${BASE_IMAGE}"}


def test_podman_here_runs_with_runc_cgroupfs_and_no_default_ulimits():
    import tomllib

    conf = tomllib.loads((DOCKER / "podman" / "containers.conf").read_text())
    assert conf["engine"]["runtime"] == "runc"
    assert conf["engine"]["cgroup_manager"] == "cgroupfs"
    assert conf["containers"]["default_ulimits"] == []
    script = (ROOT / "scripts" / "stack.sh").read_text()
    assert 'CONTAINERS_CONF="$ROOT/docker/podman/containers.conf"' in script
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / "stack.sh")], check=True)


def test_the_proxy_spreads_requests_over_the_web_service():
    nginx = (DOCKER / "nginx.conf").read_text()
    assert "server web:8000;" in nginx and "proxy_pass http://web;" in nginx


def test_the_example_env_names_only_settings_the_app_reads_and_the_readme_documents():
    settings = (ROOT / "config" / "settings.py").read_text()
    readme = (ROOT / "README.md").read_text()
    names = [
        line.split("=", 1)[0]
        for line in (DOCKER / "example.env").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert "DATABASE_URL" in names and "REDIS_URL" in names
    for name in names:
        if name == "WEB_CONCURRENCY":
            assert name in (DOCKER / "entrypoint.sh").read_text()
        else:
            assert f'"{name}"' in settings, name
        assert f"`{name}`" in readme, f"{name} is not in the README"


def test_collectstatic_points_every_module_import_at_a_hashed_file(tmp_path, settings):
    # What production serves (DEBUG off): hashed names, kept for a year by browsers. An import
    # left at "./live.js" would load an unhashed file, of another version after a deploy.
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "config.storage.StaticModulesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    modules = {
        name: hashed for name, hashed in manifest.items() if re.match(r"js/[^/]+\.js$", name)
    }
    assert "js/app.js" in modules and len(modules) > 1
    imported = set()
    for hashed in modules.values():
        for path in re.findall(
            r"""(?:import|from)\s*["'](\.[^"']+)["']""", (tmp_path / hashed).read_text()
        ):
            target = posixpath.normpath(posixpath.join("js", path))
            assert target in modules.values(), f"{hashed} imports {path}, which is not hashed"
            imported.add(target)
    # Every module is loaded, each through the hashed name of the current build.
    assert imported == set(modules.values()) - {modules["js/app.js"]}
