"""Command line: `python -m scripe_integration.sandbox --port 8765`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from scripe_integration.sandbox.server import Sandbox
from scripe_integration.sandbox.state import ALL_SCOPES, DEFAULT_TEST_KEY, Config


def seconds_range(value: str) -> tuple[float, float]:
    low, _, high = value.partition("-")
    try:
        pair = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SECONDS or LOW-HIGH, got {value!r}") from None
    if pair[0] < 0 or pair[1] < pair[0]:
        raise argparse.ArgumentTypeError(f"expected 0 <= LOW <= HIGH, got {value!r}")
    return pair


def delays(value: str) -> tuple[float, ...]:
    try:
        parsed = tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SECONDS,SECONDS,..., got {value!r}") from None
    if any(d < 0 for d in parsed):
        raise argparse.ArgumentTypeError(f"delays are not negative, got {value!r}")
    return parsed


def key_spec(value: str) -> tuple[str, tuple[str, ...]]:
    secret, _, scopes = value.partition("=")
    if not secret.startswith(("scripe_sk_live_", "scripe_sk_test_")):
        raise argparse.ArgumentTypeError("keys start with scripe_sk_live_ or scripe_sk_test_")
    return secret, tuple(s for s in scopes.split(",") if s) if scopes else ALL_SCOPES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripe_integration.sandbox",
        description=(
            "A local Scripe API (v1, version 2026-08-01) over real HTTP, in memory. It serves "
            "/v1/health, /v1/health/auth, /v1/workspaces/me, /v1/projects, /v1/posts, "
            "/v1/posts/generations, /v1/jobs and /v1/webhook-endpoints as documented, publishes "
            "scheduled posts on its clock, delivers signed webhooks, and has a control surface "
            "for tests: GET /_sandbox/stats, POST|DELETE /_sandbox/faults, "
            "POST /_sandbox/job-failures, POST /_sandbox/keys/revoke, "
            "PATCH /_sandbox/projects/{id}, PATCH|DELETE /_sandbox/posts/{id} (edits 'from the "
            "dashboard'), POST /_sandbox/posts/{id}/publish-failure, "
            "GET /_sandbox/webhook-deliveries. A source text containing [sandbox:fail] (or "
            "[sandbox:fail=content_policy]) makes that generation fail."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind (default 8765)")
    parser.add_argument(
        "--key",
        action="append",
        type=key_spec,
        metavar="KEY[=SCOPE,...]",
        help=f"an API key it accepts, with all scopes unless listed; repeatable "
        f"(default: {DEFAULT_TEST_KEY})",
    )
    parser.add_argument(
        "--revoked-key", action="append", default=[], metavar="KEY", help="answer 401 key_revoked"
    )
    parser.add_argument(
        "--expired-key", action="append", default=[], metavar="KEY", help="answer 401 key_expired"
    )
    parser.add_argument(
        "--plan",
        default="ADVANCED",
        choices=["FREE", "SOLO", "ADVANCED", "BUSINESS", "ENTERPRISE", "TRIAL"],
        help="the workspace plan; FREE and SOLO get 403 plan_not_eligible (default ADVANCED)",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=120,
        metavar="N",
        help="requests per sliding 60 s window per workspace before 429 (default 120)",
    )
    parser.add_argument(
        "--spend-cap",
        type=int,
        default=400,
        metavar="N",
        help="generations per UTC day (5 cents each) before 402 spend_cap_exceeded (default 400)",
    )
    parser.add_argument(
        "--ingest-seconds",
        type=seconds_range,
        default=(4.0, 8.0),
        metavar="LOW-HIGH",
        help="how long a file source's SOURCE_INGEST_FILE job runs (default 4-8)",
    )
    parser.add_argument(
        "--upload-dir",
        default=None,
        help="where uploaded files go (default: a new temporary directory)",
    )
    parser.add_argument(
        "--generation-seconds",
        type=seconds_range,
        default=(8.0, 20.0),
        metavar="LOW-HIGH",
        help="how long a job runs once picked up, drawn per job (default 8-20)",
    )
    parser.add_argument(
        "--knowledge-seconds",
        type=seconds_range,
        default=(2.0, 5.0),
        metavar="LOW-HIGH",
        help="how long a knowledge-base ingest runs once picked up (default 2-5)",
    )
    parser.add_argument(
        "--queue-seconds",
        type=float,
        default=0.4,
        metavar="S",
        help="how long a job waits QUEUED before a worker picks it up (default 0.4)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="never report a running job's progress (the contract allows null)",
    )
    parser.add_argument(
        "--estimate-reading",
        choices=["total", "remaining"],
        default="total",
        help="estimatedCompletionMs as the whole job's duration, or the time it still needs "
        "(the contract does not say; default total)",
    )
    parser.add_argument(
        "--failure-rate",
        type=float,
        default=0.1,
        metavar="P",
        help="share of jobs that end FAILED, 0 to 1 (default 0.1)",
    )
    parser.add_argument(
        "--deprecate",
        metavar="HEADER",
        help="send Scripe-Deprecation with this value, e.g. "
        "'2026-08-01; sunset=2026-12-01; replacement=2026-11-01'",
    )
    parser.add_argument(
        "--extra-projects",
        type=int,
        default=0,
        metavar="N",
        help="seed N more active projects besides the three standard ones (default 0)",
    )
    parser.add_argument(
        "--state-file",
        metavar="PATH",
        help="keep projects, posts, jobs, idempotency records, webhook endpoints and spend in "
        "this JSON file across restarts (default: in memory only)",
    )
    parser.add_argument(
        "--webhook-targets",
        choices=["public", "loopback", "any"],
        default="loopback",
        help="webhook URLs accepted: 'public' (Scripe's rule: HTTPS to a public address, "
        "else 422 ssrf_blocked), 'loopback' (also http(s) to 127.0.0.1, ::1, localhost) or "
        "'any' address (default loopback)",
    )
    parser.add_argument(
        "--webhook-retry-seconds",
        type=delays,
        default=(1.0, 2.0, 4.0, 8.0, 16.0),
        metavar="S,S,...",
        help="delays before each retry of a failed webhook delivery (default 1,2,4,8,16)",
    )
    parser.add_argument(
        "--webhook-timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds a webhook receiver has to answer (default 5)",
    )
    parser.add_argument(
        "--webhook-envelope",
        choices=["object", "bare"],
        default="object",
        help="webhook envelope: 'object' sends the Post or Job as data.object, 'bare' as data "
        "itself; the contract pins neither (default object)",
    )
    parser.add_argument(
        "--tick-seconds",
        type=float,
        default=0.2,
        metavar="S",
        help="how often the clock publishes due posts and announces finished jobs (default 0.2)",
    )
    parser.add_argument(
        "--seed", type=int, help="seed for ids, durations and failures, for repeatable runs"
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    keys = dict(args.key or [(DEFAULT_TEST_KEY, ALL_SCOPES)])
    config = Config(
        keys=keys,
        revoked_keys=set(args.revoked_key),
        expired_keys=set(args.expired_key),
        plan=args.plan,
        rate_limit=args.rate_limit,
        spend_cap=args.spend_cap,
        generation_seconds=args.generation_seconds,
        knowledge_seconds=args.knowledge_seconds,
        queue_seconds=args.queue_seconds,
        failure_rate=args.failure_rate,
        deprecation=args.deprecate,
        extra_projects=args.extra_projects,
        seed=args.seed,
        tick_seconds=args.tick_seconds,
        webhook_targets=args.webhook_targets,
        webhook_retry_seconds=args.webhook_retry_seconds,
        webhook_timeout=args.webhook_timeout,
        webhook_envelope=args.webhook_envelope,
        state_file=args.state_file,
        progress=not args.no_progress,
        estimate_reading=args.estimate_reading,
        ingest_seconds=args.ingest_seconds,
        upload_dir=args.upload_dir,
    )
    logging.basicConfig(level=logging.INFO, format="sandbox: %(message)s", stream=sys.stderr)
    sandbox = Sandbox(config, host=args.host, port=args.port, quiet=args.quiet)
    print(f"Scripe sandbox serving {sandbox.base_url}", flush=True)
    for secret, scopes in keys.items():
        print(f"  key {secret}  scopes: {', '.join(scopes)}", flush=True)
    for project in sandbox.state.projects.values():
        print(f"  project {project.id}  {project.name} ({project.type})", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sandbox.start_background()
    try:
        sandbox.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.server.server_close()
        sandbox.stop_background()  # and writes the state file


if __name__ == "__main__":
    main()
