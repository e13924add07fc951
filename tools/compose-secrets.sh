#!/usr/bin/env bash
# Writes the secrets docker compose needs to .env beside docker-compose.yml: a random value for every variable the
# compose file requires and .env does not set yet (existing values are kept; --rotate replaces them all). Mode 0600.
#
#   tools/compose-secrets.sh [--rotate]
#
# Then: docker compose up --build. After --rotate, recreate the containers (docker compose up -d --force-recreate):
# the broker sets its users' new passwords at start and every service reconnects with its new one.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly FILE=.env
readonly VARIABLES=(
  TREECAST_RABBITMQ_ADMIN_PASSWORD
  TREECAST_RABBITMQ_PASSWORD_POLICY
  TREECAST_RABBITMQ_PASSWORD_TOPOLOGY
  TREECAST_RABBITMQ_PASSWORD_SCHEDULER
  TREECAST_RABBITMQ_PASSWORD_MONITORING
  TREECAST_RABBITMQ_PASSWORD_AGENT_HOST_01
  TREECAST_RABBITMQ_PASSWORD_AGENT_HOST_02
  TREECAST_RABBITMQ_PASSWORD_AGENT_HOST_03
  MONGO_ROOT_PASSWORD
  TREECAST_API_KEY
)

rotate=false
case "${1:-}" in
  "") ;;
  --rotate) rotate=true ;;
  *) echo "compose-secrets.sh: unknown argument '$1' (use no argument, or --rotate)" >&2; exit 1 ;;
esac

umask 077
touch "$FILE"
chmod 600 "$FILE"
written=0
for name in "${VARIABLES[@]}"; do
  if [[ $rotate == false ]] && grep -q -E "^${name}=." "$FILE"; then
    continue
  fi

  # 32 letters and digits: safe in an amqp:// URI and a mongodb:// URI without escaping.
  # (From a bounded read: a pipe from /dev/urandom into head would end on SIGPIPE under pipefail.)
  value=$(head -c 1024 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
  value=${value:0:32}
  grep -v -E "^${name}=" "$FILE" >"$FILE.tmp" || true
  echo "${name}=${value}" >>"$FILE.tmp"
  mv "$FILE.tmp" "$FILE"
  written=$((written + 1))
done

echo "compose-secrets.sh: $written secret(s) written to $FILE (mode 0600); ${#VARIABLES[@]} in all"
