#!/bin/sh
# One image, four roles. `migrate` runs once per deployment (compose runs it as a one-shot
# service that web and workers wait for), so replicas never race to migrate.
set -eu

case "${1:-web}" in
  migrate)
    python manage.py migrate --noinput
    exec python manage.py createcachetable
    ;;
  web)
    # Workers, threads, timeouts and logs: /app/gunicorn.conf.py (WEB_CONCURRENCY, WEB_THREADS).
    exec gunicorn config.wsgi:application \
      --config /app/gunicorn.conf.py \
      --bind 0.0.0.0:8000 \
      --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}"
    ;;
  worker)
    exec python manage.py qcluster
    ;;
  sandbox)
    exec python -m scripe_integration.sandbox --host 0.0.0.0 --port 8765 --seed 1
    ;;
  *)
    exec "$@"
    ;;
esac
