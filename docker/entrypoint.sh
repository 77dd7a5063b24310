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
    exec gunicorn calendar_app.wsgi:application \
      --bind 0.0.0.0:8000 \
      --workers "${WEB_CONCURRENCY:-3}" \
      --access-logfile - \
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
