"""prometheus_client's multiprocess mode, set up from the settings before any metric exists.

With PROMETHEUS_MULTIPROC_DIR set, every process writes its counts to files named after it
in that folder, and /metrics sums them (config/metrics.py). The files are named by host and
process id, not by process id alone (the library's default): the web and worker containers
of one deployment may share the folder (a volume), and process ids repeat across containers,
so two processes would write into one file.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def process_name(pid: int | None = None) -> str:
    """The name a process's files carry: this host's, and the process id (this one's)."""
    return f"{socket.gethostname()}-{pid or os.getpid()}"


def multiprocess_setup(folder: str) -> None:
    from prometheus_client import values

    Path(folder).mkdir(parents=True, exist_ok=True)
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda: process_name())


def clear_own_files(folder: str) -> None:
    """Forgets what this host's earlier run counted: what gunicorn's master does at start.
    Another container's files in a shared folder are left alone."""
    host = socket.gethostname()
    for path in Path(folder).glob(f"*_{host}-*.db"):
        path.unlink(missing_ok=True)
