#!/usr/bin/env bash
# Starts Debian's rabbitmq-server unless a broker already answers on localhost:5672.
# Used by tools/test.sh and .ci/run on machines without a Docker engine.
set -euo pipefail

port_open() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if port_open; then
  echo "RabbitMQ already answers on localhost:5672"
  exit 0
fi

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  echo "rabbitmq-server is not installed: run 'sudo apt-get install rabbitmq-server' (or set RABBITMQ_URI)" >&2
  exit 1
fi

echo "Starting rabbitmq-server..."
service rabbitmq-server start >/dev/null 2>&1 || rabbitmq-server -detached
for _ in $(seq 1 90); do
  if port_open && rabbitmq-diagnostics -q check_running >/dev/null 2>&1; then
    echo "RabbitMQ is up on localhost:5672"
    exit 0
  fi
  sleep 1
done
echo "rabbitmq-server did not come up within 90 s; see /var/log/rabbitmq/" >&2
exit 1
