#!/usr/bin/env bash
# The test command (README): builds the solution and runs every test project.
# Integration tests use the broker at RABBITMQ_URI; when unset, this script starts Debian's
# rabbitmq-server (tools/start-rabbitmq.sh) and points the tests at it. Tests that need a server
# nobody provides (MongoDB without MONGODB_URI or Docker) are reported as skipped, with the reason.
# Ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -z "${RABBITMQ_URI:-}" ]; then
  if tools/start-rabbitmq.sh; then
    export RABBITMQ_URI="amqp://guest:guest@localhost:5672/"
  else
    echo "No RabbitMQ broker: broker tests will be skipped (unless a Docker engine answers for Testcontainers)."
  fi
fi

dotnet build Microservices.sln -c Release -nologo -clp:NoSummary || { echo "0 passed, 1 failed"; exit 1; }

log="$(mktemp)"
dotnet test Microservices.sln -c Release --no-build -nologo \
  --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum the per-assembly summaries ("Passed!  - Failed: 0, Passed: 12, Skipped: 1, Total: 13, ...").
read -r passed failed skipped < <(
  grep -E '^(Passed|Failed)! +- +Failed:' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' |
    awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the runner itself failed (crash, build error): never report green
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
