#!/usr/bin/env bash
# The test command (README): builds the solution and runs every test project.
# Integration tests use the broker at RABBITMQ_URI; when unset, this script starts Debian's
# rabbitmq-server (tools/start-rabbitmq.sh) and points the tests at it. MongoDB-backed tests use MONGODB_URI, a
# Testcontainers MongoDB where Docker answers, or else the emulator this script starts (tools/mongo-emulator.sh).
# Tests that need a server nobody provides are reported as skipped, with the reason.
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

# MongoDB-backed tests need a server: MONGODB_URI, else Testcontainers where a Docker engine answers, else the
# wire-compatible emulator (tools/mongo-emulator.sh: not MongoDB, see its header for what it cannot show).
if [ -z "${MONGODB_URI:-}" ] && ! docker info >/dev/null 2>&1; then
  if uri="$(bash tools/mongo-emulator.sh | tail -n1)" && [ -n "$uri" ]; then
    export MONGODB_URI="$uri"
    echo "MongoDB-backed tests use the emulator at $MONGODB_URI"
  else
    echo "No MongoDB server and the emulator did not start: MongoDB-backed tests will be skipped."
  fi
fi

dotnet build Microservices.sln -c Release -nologo -clp:NoSummary || { echo "0 passed, 1 failed"; exit 1; }

# The agent as its image deploys it (services/Agent/Dockerfile): self-contained, trimmed, compiled ahead of time as one
# composite. Every test that starts an agent process runs this publish (TREECAST_AGENT_IMAGE), so code the trimmer
# removed and the agent needs fails here, not in a fleet. About 2 minutes.
agent_image="$PWD/services/Agent/bin/Release/image"
echo "Publishing the agent as its image does (about 2 minutes)..."
# (The project turns self-contained into composite and trimmed: services/Agent/Treecast.Agent.csproj.)
dotnet publish services/Agent/Treecast.Agent.csproj -c Release --use-current-runtime --self-contained true \
  -o "$agent_image" -nologo -v quiet || { echo "0 passed, 1 failed"; exit 1; }
export TREECAST_AGENT_IMAGE="$agent_image"

log="$(mktemp)"
# The fault suite (tests/Fault.Tests) writes its one figures line here; printed after the test output.
export TREECAST_FAULTS_REPORT="$(mktemp)"
dotnet test Microservices.sln -c Release --no-build -nologo \
  --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum the per-assembly summaries. The console logger prints, per test assembly, either
# "Total tests: 13 / Passed: 12 / Skipped: 1 / Failed: 0" on separate lines, or one line
# "Passed!  - Failed: 0, Passed: 12, Skipped: 1, Total: 13"; read both.
read -r passed failed skipped < <(
  awk '
    /^(Passed|Failed)! +- +Failed:/ {
      gsub(/,/, ""); for (i = 1; i <= NF; i++) {
        if ($i == "Failed:") f += $(i + 1); if ($i == "Passed:") p += $(i + 1); if ($i == "Skipped:") s += $(i + 1) }
      next }
    /^ *Passed: *[0-9]+ *$/ { p += $2 }
    /^ *Failed: *[0-9]+ *$/ { f += $2 }
    /^ *Skipped: *[0-9]+ *$/ { s += $2 }
    END { print p + 0, f + 0, s + 0 }' "$log")
# Name every failed test with the first lines of its message just above the summary, so a CI log that keeps only
# its tail still says what failed.
awk '
  /^  Failed [A-Za-z_.]/ { print "FAILED:" substr($0, 9); grab = 0; next }
  /^  Error Message:/ { grab = 4; next }
  /^  Stack Trace:/ || /^\[/ { grab = 0; next }
  grab > 0 { print "    " $0; grab--; next }' "$log" > "$log.failed"
if [ -s "$log.failed" ]; then
  echo "Failed tests:"
  cat "$log.failed"
fi
rm -f "$log" "$log.failed"
if [ -s "$TREECAST_FAULTS_REPORT" ]; then
  cat "$TREECAST_FAULTS_REPORT"
fi
rm -f "$TREECAST_FAULTS_REPORT"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the runner itself failed (crash, build error): never report green
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
