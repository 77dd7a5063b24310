"""gunicorn for the web role (docker/entrypoint.sh, bench/load.py); gunicorn also reads this
file by itself when started from the repository's root.

Sized for the machine it runs on. The app spends its time in Python (template rendering), so
more processes than cores only queue for the CPU; a few threads per process let a 5 ms live
poll pass a 100 ms month page instead of waiting behind it, and give each connection
keep-alive. Measured with bench/load.py (README, "Performance").
"""

from __future__ import annotations

import os

# The cores this process may run on (a CPU set, taskset); WEB_CONCURRENCY overrides.
cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

wsgi_app = "config.wsgi:application"
workers = int(os.getenv("WEB_CONCURRENCY", str(cores + 1)))
worker_class = "gthread"
threads = int(os.getenv("WEB_THREADS", "4"))
# Import the app once in the master and fork: faster starts, shared memory. No database
# connection is opened at import time, so none is shared across the fork.
preload_app = True
# A request that takes longer than this is stuck: the worker is replaced.
timeout = 30
graceful_timeout = 20
# Behind nginx (docker/nginx.conf) connections are reused; a little longer than nginx's own.
keepalive = 5
# Heartbeat files in memory, not on the container's overlay filesystem (gunicorn's advice).
SHM = "/dev/shm"  # noqa: S108 - gunicorn's heartbeat files, not data
worker_tmp_dir = SHM if os.path.isdir(SHM) else None
# Replace workers now and then, staggered, so a slow leak never grows.
max_requests = 5000
max_requests_jitter = 500
# gunicorn 27's runtime control socket: unused here, and one fewer way in.
control_socket_disable = True
accesslog = "-"
errorlog = "-"


# prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, /metrics): each process
# writes its counts to files there, summed at scrape time. The master forgets this host's
# earlier run when it starts (config.prometheus); a worker that exits is marked dead, so its
# live gauges stop counting (its counters stay: what it did happened).
def on_starting(server) -> None:
    if folder := os.getenv("PROMETHEUS_MULTIPROC_DIR"):
        from config.prometheus import clear_own_files

        clear_own_files(folder)


def child_exit(server, worker) -> None:
    if os.getenv("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        from config.prometheus import process_name

        multiprocess.mark_process_dead(process_name(worker.pid))
