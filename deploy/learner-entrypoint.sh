#!/bin/sh
# Learner entrypoint for containers (deploy/compose.yaml, deploy/k8s/learner.yaml).
# Starts the run in $RUN_DIR, or resumes it when $RUN_DIR/checkpoints holds a checkpoint: a
# learner whose container or pod restarts continues the same run from its volume.
#   RUN_DIR       run directory on the volume (default /data/run)
#   RUN_CONFIG    YAML/JSON run config, keyed by long flag names (needed for a new run)
#   BIND          endpoint to bind (default tcp://0.0.0.0:5555)
#   CURVE_SECRET  the learner's NAME.key;  CURVE_ALLOW  the admitted actor public keys
#   LINGER        seconds to answer actors with Stop after the run has ended (default 60), so
#                 that actors started or restarted after the end exit 0 instead of failing
#   ISRESHAPE_CLI the CLI (default /app/dist/deploy/cli.js)
# Extra arguments are passed on to `isreshape learner` (with --resume only --steps / --time).
set -eu

RUN_DIR="${RUN_DIR:-/data/run}"
BIND="${BIND:-tcp://0.0.0.0:5555}"
CLI="${ISRESHAPE_CLI:-/app/dist/deploy/cli.js}"

ENTRYPOINT=learner-entrypoint
. "$(dirname "$0")/entrypoint-lib.sh"

LINGER="${LINGER:-60}"
case "$LINGER" in
  '' | *[!0-9]*) fail "LINGER: '$LINGER' must be a whole number of seconds" ;;
esac
set -- --bind "$BIND" --linger "$LINGER" "$@"
if [ -n "${CURVE_SECRET:-}" ] || [ -n "${CURVE_ALLOW:-}" ]; then
  [ -n "${CURVE_SECRET:-}" ] && [ -n "${CURVE_ALLOW:-}" ] || fail "set both CURVE_SECRET and CURVE_ALLOW (or neither)"
  key="$(private_copy "$CURVE_SECRET" CURVE_SECRET)"
  set -- --curve-secret "$key" --curve-allow "$CURVE_ALLOW" "$@"
fi

if ls "$RUN_DIR"/checkpoints/ckpt-*.bin >/dev/null 2>&1; then
  echo "learner-entrypoint: $RUN_DIR has checkpoints: resuming the run"
  exec node "$CLI" learner --resume "$RUN_DIR" "$@"
fi

if [ -e "$RUN_DIR" ]; then
  # The learner writes checkpoint 0 as it starts: a run directory without one never trained.
  aside="$RUN_DIR.incomplete-$(date +%Y%m%d%H%M%S)"
  echo "learner-entrypoint: $RUN_DIR has no checkpoint (a start that failed); moving it to $aside" >&2
  mv "$RUN_DIR" "$aside"
fi
[ -n "${RUN_CONFIG:-}" ] || fail "set RUN_CONFIG to the run config file for a new run"
[ -f "$RUN_CONFIG" ] || fail "RUN_CONFIG: $RUN_CONFIG does not exist"
mkdir -p "$(dirname "$RUN_DIR")"
echo "learner-entrypoint: starting a new run in $RUN_DIR"
exec node "$CLI" learner --config "$RUN_CONFIG" --run-dir "$RUN_DIR" "$@"
