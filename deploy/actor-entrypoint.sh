#!/bin/sh
# Actor entrypoint for containers (deploy/compose.yaml, deploy/k8s/actors.yaml).
# The actor id is $ACTOR_ID, else the ordinal that ends the host name: a StatefulSet pod
# `isreshape-actor-3` is actor 3. Ids must be unique and below the run's --actors.
#   LEARNER       the learner's endpoint, e.g. tcp://learner:5555 (required)
#   RUN_CONFIG    the same run config file as the learner's (required)
#   ACTOR_ID      this actor's id (default: the host name's ordinal)
#   CURVE_SECRET  this actor's NAME.key;  CURVE_SERVER  the learner's NAME.pub
#   CONNECT_TIMEOUT  seconds to wait for the learner's answer (default 120)
#   ISRESHAPE_CLI the CLI (default /app/dist/deploy/cli.js)
# Extra arguments are passed on to `isreshape actor`. Its log goes to runs/<the learner's run
# id>-actor<N>/ under the working directory (/data in the image), continued when it starts again.
set -eu

CLI="${ISRESHAPE_CLI:-/app/dist/deploy/cli.js}"

ENTRYPOINT=actor-entrypoint
. "$(dirname "$0")/entrypoint-lib.sh"

host="${HOSTNAME:-$(hostname)}"
id="${ACTOR_ID:-${host##*-}}"
case "$id" in
  '' | *[!0-9]*) fail "no actor id: set ACTOR_ID, or run as a StatefulSet pod whose host name ends in -N (host name '$host')" ;;
esac
[ -n "${LEARNER:-}" ] || fail "set LEARNER to the learner's endpoint, e.g. tcp://learner:5555"
[ -n "${RUN_CONFIG:-}" ] || fail "set RUN_CONFIG to the run config file (the learner's)"
[ -f "$RUN_CONFIG" ] || fail "RUN_CONFIG: $RUN_CONFIG does not exist"

set -- --connect "$LEARNER" --actor-id "$id" --connect-timeout "${CONNECT_TIMEOUT:-120}" --config "$RUN_CONFIG" "$@"
if [ -n "${CURVE_SECRET:-}" ] || [ -n "${CURVE_SERVER:-}" ]; then
  [ -n "${CURVE_SECRET:-}" ] && [ -n "${CURVE_SERVER:-}" ] || fail "set both CURVE_SECRET and CURVE_SERVER (or neither)"
  key="$(private_copy "$CURVE_SECRET" CURVE_SECRET)"
  set -- --curve-secret "$key" --curve-server "$CURVE_SERVER" "$@"
fi
echo "actor-entrypoint: actor $id -> $LEARNER"
exec node "$CLI" actor "$@"
