#!/usr/bin/env bash
# The RabbitMQ container's entry point under docker compose: starts the broker as the image would, then creates
# Treecast's per-service users with infra/rabbitmq/setup-users.sh (passwords from the TREECAST_RABBITMQ_PASSWORD_*
# variables compose passes in), then marks the broker ready for the healthcheck. The services start only after that
# (depends_on: service_healthy), so none of them ever meets a broker without its account.
set -euo pipefail

ready=/tmp/treecast-users-ready
rm -f "$ready"

docker-entrypoint.sh rabbitmq-server &
server=$!
# Compose stops the container with SIGTERM: hand it to the broker and wait for a clean stop.
trap 'kill -TERM "$server" 2>/dev/null; wait "$server"' TERM INT

until rabbitmq-diagnostics -q check_running >/dev/null 2>&1; do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "compose-entrypoint: rabbitmq-server exited before it ran; see the lines above" >&2
    exit 1
  fi
  sleep 1
done

# Every password comes from the environment (compose refuses to start without them), so nothing is generated; the
# env file is only where the script would write one.
bash /treecast/rabbitmq/setup-users.sh --env-file /tmp/treecast-broker.env --quiet
touch "$ready"
echo "compose-entrypoint: Treecast's broker users are set up"
wait "$server"
