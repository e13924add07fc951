#!/usr/bin/env bash
# Creates or updates Treecast's RabbitMQ users, one per service role, with the permissions that role needs and no more.
# The one source of truth for Treecast's broker permissions (docs/architecture.md, "Broker accounts").
#
#   infra/rabbitmq/setup-users.sh [--agent <vmmId>[,<vmmId>...]]... [--vhost <vhost>] [--env-file <path>]
#                                 [--node <node>] [--user-prefix <prefix>] [--rotate] [--print] [--quiet]
#
# Users: treecast-policy, treecast-topology, treecast-scheduler, treecast-monitoring, and treecast-agent-<vmmId> for
# every --agent (or every id in TREECAST_BROKER_AGENTS, space- or comma-separated). Users belong to the whole broker and
# permissions to one virtual host: fleets sharing a broker (one virtual host each) need a --user-prefix each, and their
# agents Agent:CommandSender=<prefix>treecast-policy.
#
# Passwords: TREECAST_RABBITMQ_PASSWORD_<ROLE> (POLICY, TOPOLOGY, SCHEDULER, MONITORING, AGENT_<VMMID>: the id in
# capitals, every character other than a letter or digit as '_'; host-01 -> AGENT_HOST_01) when set; otherwise the
# value already in the env file (default ./treecast-broker.env); otherwise a new random one (32 letters and digits),
# written to the env file (mode 0600; other lines of the file are kept). --rotate ignores the env file's values and
# writes new ones. Passwords reach rabbitmqctl on its standard input, never on a command line.
#
# Idempotent: a user that exists gets its password and permissions set again and its tags cleared (no administrator,
# no impersonator: an impersonator could forge the user_id agents trust). Users of agents no longer given are left
# alone: remove one with 'rabbitmqctl delete_user treecast-agent-<vmmId>'.
#
# Where rabbitmqctl is: on the broker's machine or in its container by default; RABBITMQCTL overrides the command (for
# example RABBITMQCTL="docker compose exec -T rabbitmq rabbitmqctl"), and --node names another node.
# --print writes the permission table (user, configure, write, read) and touches no broker.
set -euo pipefail

readonly PROGRAM=setup-users.sh

fail() {
  echo "$PROGRAM: error: $*" >&2
  exit 1
}

say() {
  if [[ $QUIET == false ]]; then echo "$*"; fi
}

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

# --- What each role binds and publishes (keep in step with the services; docs/architecture.md lists them) ----------

# Message types are fanout exchanges named Treecast.Contracts:<Type>; MassTransit's faults are MassTransit:Fault--<type>--
# and MassTransit:ReceiveFault (a message that could not be read), both bound to MassTransit:Fault, which nobody may read.
# No Treecast message has a base type or interface, so no other exchange appears. Topic permissions are not used: every
# exchange here is a fanout, which ignores routing keys.
readonly CONTRACTS='Treecast\.Contracts:'
readonly FAULTS='MassTransit:Fault|MassTransit:ReceiveFault'
readonly RECEIVE_FAULT='MassTransit:ReceiveFault'
# The temporary endpoint a MassTransit bus may create ({machine}_{process}_bus_{id}): private to the process that made it.
readonly TEMPORARY='[^:]+_bus_[a-z0-9]+'

readonly COMMANDS='PauseVms|AnnouncePendingTransfer|StartTransfer|ResumeVms|CancelTransfer|StartWorkload|QueryWorkload'
# Sent by the root's agent to each agent's exchange, never published: it carries the transfer token.
readonly ANNOUNCED='PendingTransferAnnounced'
# Every agent's exchange (and queue), but not their _error and _skipped companions.
readonly OTHER_AGENTS='agent-(?!.*_(error|skipped)$).+'

readonly TOPOLOGY_BINDS='VmmHeartbeat|ResolveTree|RepairTree'
readonly TOPOLOGY_PUBLISHES='VmmRegistered|VmmLost|TreeResolved|TreeRepaired|TreeResolutionFailed'

readonly SCHEDULER_BINDS='ScheduleTimer|CancelTimer'
readonly SCHEDULER_PUBLISHES='TimerFired'

readonly POLICY_BINDS='ExternalEvent|WorkloadStarted|WorkloadCompleted|TransferProgressed|VmmLost|CancelOperation|BroadcastRequested|DeadlineWatchRequested|OperationVmmLost|TreeResolved|TreeRepaired|TreeResolutionFailed|VmsPaused|VmImagesSealed|ReadyToReceive|VmsReceived|VmsResumed|OperationStepFailed|ParentUnreachable|ReceiveResumed|TimerFired|BroadcastOperationFinished|WorkloadStatusReported'
# ExternalEvent: events posted to its HTTP API (POST /events) take the bus like those from the exchange.
readonly POLICY_PUBLISHES='ExternalEvent|BroadcastRequested|DeadlineWatchRequested|OperationVmmLost|BroadcastOperationFinished|WorkloadCompleted'
readonly POLICY_QUEUES='broadcast-operation-state|deadline-watch-state|policy-[a-z-]+'

readonly AGENT_BINDS='BroadcastOperationFinished'
readonly AGENT_PUBLISHES='VmmHeartbeat|VmsPaused|VmImagesSealed|ReadyToReceive|TransferProgressed|VmsReceived|VmsResumed|OperationStepFailed|ParentUnreachable|ReceiveResumed|TransferCancelled|WorkloadStarted|WorkloadCompleted|WorkloadStatusReported'

# An endpoint's queue and exchange, and the _error and _skipped queues MassTransit moves its messages to.
endpoint() { echo "($1)(_error|_skipped)?"; }
types() { echo "${CONTRACTS}($1)"; }
faults_of() { echo "MassTransit:Fault--${CONTRACTS}($1)--"; }
# One anchored pattern from alternatives: RabbitMQ matches permissions anywhere in a name unless anchored.
anchored() {
  local IFS='|'
  echo "^($*)\$"
}

# Sets CONFIGURE, WRITE and READ for a role. A consumer's binding needs read on the exchange it binds from and write on
# its own; a publisher declares (configure) and writes the exchange of each type; moving a message to _error publishes
# a fault of its type (configure, write, and read to bind it to MassTransit:Fault).
permissions_of() {
  local role=$1 vmm=${2:-}
  case $role in
    policy)
      # Sending to a queue: address declares the queue and binds it (topology, scheduler); an agent's command goes to the
      # agent's exchange, which only this account (and the agent, for its own) may write.
      CONFIGURE=$(anchored "$(endpoint "$POLICY_QUEUES")" 'treecast\.external-events' 'topology|scheduler' 'agent-.+' \
        "$(types "$POLICY_BINDS|$POLICY_PUBLISHES|$COMMANDS")" "$(faults_of "$POLICY_BINDS")" "$FAULTS" "$TEMPORARY")
      WRITE=$(anchored "$(endpoint "$POLICY_QUEUES")" 'topology|scheduler' 'agent-.+' \
        "$(types "$POLICY_PUBLISHES|$COMMANDS")" "$(faults_of "$POLICY_BINDS")" "$FAULTS" "$TEMPORARY")
      READ=$(anchored "$(endpoint "$POLICY_QUEUES")" 'treecast\.external-events' 'topology|scheduler' \
        "$(types "$POLICY_BINDS")" "$(faults_of "$POLICY_BINDS")" "$RECEIVE_FAULT" "$TEMPORARY")
      ;;
    topology | scheduler)
      local binds publishes
      if [[ $role == topology ]]; then
        binds=$TOPOLOGY_BINDS publishes=$TOPOLOGY_PUBLISHES
      else
        binds=$SCHEDULER_BINDS publishes=$SCHEDULER_PUBLISHES
      fi

      CONFIGURE=$(anchored "$(endpoint "$role")" "$(types "$binds|$publishes")" "$(faults_of "$binds")" "$FAULTS" "$TEMPORARY")
      WRITE=$(anchored "$(endpoint "$role")" "$(types "$publishes")" "$(faults_of "$binds")" "$FAULTS" "$TEMPORARY")
      READ=$(anchored "$(endpoint "$role")" "$(types "$binds")" "$(faults_of "$binds")" "$RECEIVE_FAULT" "$TEMPORARY")
      ;;
    agent)
      # Reads its own queue and exchange only: commands (from the policy service) and the announcement of a transfer
      # (from the root's agent, with the token and this agent's slice of the tree) reach it through its exchange, so a
      # refused one's fault is published under its type. Writes (and declares, as MassTransit does before a send) every
      # agent's exchange: as a root it sends each VMM its announcement; agents check who sent it (AMQP user_id).
      local own
      own=$(endpoint "agent-${vmm//./\\.}")
      CONFIGURE=$(anchored "$own" "$OTHER_AGENTS" "$(types "$AGENT_BINDS|$AGENT_PUBLISHES")" "$(faults_of "$AGENT_BINDS|$ANNOUNCED|$COMMANDS")" "$FAULTS" "$TEMPORARY")
      WRITE=$(anchored "$own" "$OTHER_AGENTS" "$(types "$AGENT_PUBLISHES")" "$(faults_of "$AGENT_BINDS|$ANNOUNCED|$COMMANDS")" "$FAULTS" "$TEMPORARY")
      READ=$(anchored "$own" "$(types "$AGENT_BINDS")" "$(faults_of "$AGENT_BINDS|$ANNOUNCED|$COMMANDS")" "$RECEIVE_FAULT" "$TEMPORARY")
      ;;
    monitoring)
      # Publishes plain JSON to the external-events exchange, which the policy service declares; nothing else.
      CONFIGURE='^$'
      WRITE='^treecast\.external-events$'
      READ='^$'
      ;;
  esac
}

# --- Arguments -------------------------------------------------------------------------------------------------------

VHOST=/
PREFIX=
ENV_FILE=./treecast-broker.env
NODE=
ROTATE=false
PRINT=false
QUIET=false
AGENTS=()

# Adds the ids of a list: comma-separated (--agent), or also space-separated (TREECAST_BROKER_AGENTS).
add_agents() {
  local list=$1 separators=${2:-,} id ids
  IFS=$separators read -r -a ids <<<"$list"
  for id in "${ids[@]}"; do
    [[ -n $id ]] || continue
    [[ $id =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] \
      || fail "agent id '$id' is not usable in a user name: use letters, digits, '.', '_' and '-' (as Agent:VmmId, for example host-01)"
    [[ ! $id =~ _(error|skipped)$ ]] \
      || fail "agent id '$id' ends like MassTransit's error and skipped queues (agent-<id>_error): choose another, for example host-01"
    AGENTS+=("$id")
  done
}

add_agents "${TREECAST_BROKER_AGENTS:-}" ', '

while (($# > 0)); do
  case $1 in
    --agent) [[ $# -ge 2 ]] || fail "--agent needs a VMM id, for example --agent host-01"; add_agents "$2"; shift 2 ;;
    --vhost) [[ $# -ge 2 && -n $2 ]] || fail "--vhost needs a virtual host, for example --vhost /"; VHOST=$2; shift 2 ;;
    --env-file) [[ $# -ge 2 && -n $2 ]] || fail "--env-file needs a path, for example --env-file ./treecast-broker.env"; ENV_FILE=$2; shift 2 ;;
    --node) [[ $# -ge 2 && -n $2 ]] || fail "--node needs a node name, for example --node rabbit@rabbitmq"; NODE=$2; shift 2 ;;
    --user-prefix)
      [[ $# -ge 2 && $2 =~ ^[A-Za-z0-9._-]+$ ]] || fail "--user-prefix needs letters, digits, '.', '_' or '-', for example --user-prefix fleet-b."
      PREFIX=$2
      shift 2
      ;;
    --rotate) ROTATE=true; shift ;;
    --print) PRINT=true; shift ;;
    --quiet) QUIET=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see $PROGRAM --help)" ;;
  esac
done

# Each user once, in a stable order: role, user name, password variable.
USERS=(
  "policy ${PREFIX}treecast-policy TREECAST_RABBITMQ_PASSWORD_POLICY"
  "topology ${PREFIX}treecast-topology TREECAST_RABBITMQ_PASSWORD_TOPOLOGY"
  "scheduler ${PREFIX}treecast-scheduler TREECAST_RABBITMQ_PASSWORD_SCHEDULER"
  "monitoring ${PREFIX}treecast-monitoring TREECAST_RABBITMQ_PASSWORD_MONITORING"
)
declare -A SEEN=()
for id in "${AGENTS[@]}"; do
  if [[ -z ${SEEN[$id]:-} ]]; then
    SEEN[$id]=1
    variable=TREECAST_RABBITMQ_PASSWORD_AGENT_$(tr '[:lower:]' '[:upper:]' <<<"$id" | tr -c 'A-Z0-9\n' '_')
    USERS+=("agent ${PREFIX}treecast-agent-$id $variable $id")
  fi
done

if [[ $PRINT == true ]]; then
  printf 'user\tconfigure\twrite\tread\n'
  for entry in "${USERS[@]}"; do
    read -r role user _ vmm <<<"$entry"
    permissions_of "$role" "$vmm"
    printf '%s\t%s\t%s\t%s\n' "$user" "$CONFIGURE" "$WRITE" "$READ"
  done
  exit 0
fi

# --- The broker --------------------------------------------------------------------------------------------------------

read -r -a CTL <<<"${RABBITMQCTL:-rabbitmqctl}"
if [[ -n $NODE ]]; then CTL+=(--node "$NODE"); fi
command -v "${CTL[0]}" >/dev/null 2>&1 \
  || fail "'${CTL[0]}' not found: run this where RabbitMQ's CLI is (the broker's machine or container), or set RABBITMQCTL"

first_line() { grep -v '^[[:space:]]*$' <<<"$1" | head -n 1; }

if ! existing=$("${CTL[@]}" -s list_users 2>&1); then
  fail "cannot reach the RabbitMQ node${NODE:+ $NODE} with '${CTL[*]}': $(first_line "$existing")"
fi
vhosts=$("${CTL[@]}" -s list_vhosts name 2>&1) || fail "cannot list virtual hosts: $(first_line "$vhosts")"
grep -Fxq -- "$VHOST" <<<"$vhosts" || fail "virtual host '$VHOST' does not exist on the node: create it ('rabbitmqctl add_vhost $VHOST') or pass --vhost"

# --- Passwords ---------------------------------------------------------------------------------------------------------

declare -A FROM_FILE=()
if [[ $ROTATE == false && -f $ENV_FILE ]]; then
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^(TREECAST_RABBITMQ_PASSWORD_[A-Z0-9_]+)=(.*)$ ]]; then
      FROM_FILE[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    fi
  done <"$ENV_FILE"
fi

generate() { LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 || true; }

declare -A PASSWORD=()
GENERATED=()
for entry in "${USERS[@]}"; do
  read -r _ user variable _ <<<"$entry"
  if [[ -n ${!variable:-} ]]; then
    PASSWORD[$user]=${!variable}
  elif [[ -n ${FROM_FILE[$variable]:-} ]]; then
    PASSWORD[$user]=${FROM_FILE[$variable]}
  else
    PASSWORD[$user]=$(generate)
    [[ ${#PASSWORD[$user]} -eq 32 ]] || fail "could not generate a password from /dev/urandom"
    GENERATED+=("$variable=${PASSWORD[$user]}")
  fi
done

if ((${#GENERATED[@]} > 0)); then
  # Replace the generated variables in the file, keep every other line, and never let the file be readable by others.
  kept=$(mktemp "${ENV_FILE}.XXXXXX") || fail "cannot write next to the env file $ENV_FILE"
  chmod 600 "$kept"
  if [[ -f $ENV_FILE ]]; then
    names=$(printf '%s\n' "${GENERATED[@]}" | cut -d= -f1 | paste -sd'|')
    grep -v -E "^($names)=" "$ENV_FILE" >"$kept" || true
  fi
  printf '%s\n' "${GENERATED[@]}" >>"$kept"
  mv "$kept" "$ENV_FILE" || fail "cannot write the env file $ENV_FILE"
  say "wrote ${#GENERATED[@]} new password(s) to $ENV_FILE (mode 0600)"
fi

# --- Users and permissions ---------------------------------------------------------------------------------------------

# The tags of an existing user ("[]" for none); fails for a user the broker does not have.
tags_of() { awk -F'\t' -v user="$1" '$1 == user { print $2; found = 1 } END { exit !found }' <<<"$existing"; }

apply() {
  local role=$1 user=$2 vmm=$3 output tags
  permissions_of "$role" "$vmm"
  if tags=$(tags_of "$user"); then
    output=$("${CTL[@]}" -q change_password "$user" <<<"${PASSWORD[$user]}" 2>&1) || { echo "$user: cannot change the password: $(first_line "$output")"; return 1; }
    if [[ $tags != "[]" ]]; then
      output=$("${CTL[@]}" -q set_user_tags "$user" 2>&1) || { echo "$user: cannot clear its tags $tags: $(first_line "$output")"; return 1; }
    fi
  else
    output=$("${CTL[@]}" -q add_user "$user" <<<"${PASSWORD[$user]}" 2>&1) || { echo "$user: cannot add the user: $(first_line "$output")"; return 1; }
  fi

  output=$("${CTL[@]}" -q set_permissions --vhost "$VHOST" "$user" "$CONFIGURE" "$WRITE" "$READ" 2>&1) \
    || { echo "$user: cannot set its permissions on '$VHOST': $(first_line "$output")"; return 1; }
}

# One rabbitmqctl runs about a second (it starts an Erlang VM): a few users are set up side by side.
readonly SIDE_BY_SIDE=4
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
running=()
for i in "${!USERS[@]}"; do
  if ((${#running[@]} >= SIDE_BY_SIDE)); then
    wait "${running[0]}" || true
    running=("${running[@]:1}")
  fi

  read -r role user _ vmm <<<"${USERS[$i]}"
  (apply "$role" "$user" "${vmm:-}" >"$results/$i" 2>&1 && touch "$results/$i.done") &
  running+=($!)
done
wait || true

failed=0
for i in "${!USERS[@]}"; do
  read -r _ user _ _ <<<"${USERS[$i]}"
  if [[ -f $results/$i.done ]]; then
    say "$user: password and permissions set on virtual host '$VHOST'"
  else
    echo "$PROGRAM: error: $(cat "$results/$i")" >&2
    failed=$((failed + 1))
  fi
done
((failed == 0)) || exit 1
