# Shared by deploy/learner-entrypoint.sh and deploy/actor-entrypoint.sh (sourced, not run).
# The sourcing script sets ENTRYPOINT to its own name for the messages.

fail() {
  echo "$ENTRYPOINT: $*" >&2
  exit 2
}

# The CLI refuses a key file that group or others can read, and mounted secrets often are
# (Kubernetes secret volumes, Compose secrets): use a private copy (mode 600, in a mode-700
# directory under $TMPDIR).
private_copy() {
  [ -r "$1" ] || fail "$2: cannot read $1 as uid $(id -u); make the secret readable by this user"
  dir="$(mktemp -d)"
  cp "$1" "$dir/key"
  chmod 600 "$dir/key"
  echo "$dir/key"
}
