#!/bin/bash
# Prepares this machine for the container test (npm run test:containers) and for the README's
# "Containers" and "Docker Compose" steps when no Docker engine or image registry is at hand.
# Idempotent; run as root. It changes only:
#   - Debian packages podman, podman-compose, runc, debootstrap (installed if missing);
#   - $CONTAINERS_DIR (default /var/lib/isreshape-containers): containers.conf (podman reads it
#     through CONTAINERS_CONF; the global /etc/containers files are left alone) and, while the
#     base image is built, a scratch root file system that is deleted afterwards;
#   - podman's image store: the image $BASE_IMAGE (a stand-in for node:20-bookworm-slim:
#     debootstrap --variant=minbase bookworm + this machine's Node 20 and npm + user node, uid
#     1000), built only when it is missing.
# It prints `export CONTAINERS_CONF=...` last; the test reads that line.
set -euo pipefail

CONTAINERS_DIR="${CONTAINERS_DIR:-/var/lib/isreshape-containers}"
BASE_IMAGE="${BASE_IMAGE:-localhost/isreshape-base:node20-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

say() { echo "prepare: $*" >&2; }
die() {
  echo "prepare: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (podman as root, apt-get, debootstrap); uid is $(id -u)"

missing=()
for p in podman podman-compose runc debootstrap; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them (install podman, podman-compose, runc, debootstrap)"
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# containers.conf of our own: podman's default ulimits (nofile 1048576) cannot be set where the
# hard limit is lower and raising it is not permitted, and crun refuses some cgroup layouts.
# nofile is this shell's own hard limit; nproc at most 32768 (measured on a machine without
# CAP_SYS_RESOURCE: runc failed to set 65536 and this shell's own hard limit, 96367).
mkdir -p "$CONTAINERS_DIR"
conf="$CONTAINERS_DIR/containers.conf"
nofile="$(ulimit -Hn)"
nproc="$(ulimit -Hu)"
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
cat >"$conf.new" <<CONF
# Written by scripts/containers/prepare.sh; used through CONTAINERS_CONF=$conf
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
CONF
mv "$conf.new" "$conf"
export CONTAINERS_CONF="$conf"

if podman image exists "$BASE_IMAGE"; then
  say "base image $BASE_IMAGE exists (podman rmi it to rebuild)"
else
  node_bin="$(command -v node)" || die "no node on PATH: the base image copies this machine's Node 20"
  node_major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
  [ "$node_major" = 20 ] || die "node on PATH is $("$node_bin" --version); the base image needs Node 20"
  npm_dir="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
  [ -f "$npm_dir/package.json" ] || die "cannot find npm's directory (from $(command -v npm))"
  ca="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
  root="$CONTAINERS_DIR/rootfs.tmp"
  rm -rf "$root"
  trap 'rm -rf "$root"' EXIT
  t0=$SECONDS
  say "debootstrap --variant=minbase bookworm ($MIRROR)"
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$CONTAINERS_DIR/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $CONTAINERS_DIR/debootstrap.log"
  say "debootstrap took $((SECONDS - t0)) s"
  # Node and npm where the official image has them; npm and npx as in the official image.
  install -m 755 "$node_bin" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # The host's CA bundle: npm inside a build reaches the registry through it.
  if [ -f "$ca" ]; then
    mkdir -p "$root/etc/ssl/certs"
    cp "$ca" "$root/etc/ssl/certs/host-ca.crt"
  fi
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  t1=$SECONDS
  changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]')
  [ -f "$ca" ] && changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca.crt')
  tar -C "$root" -c . | podman import --quiet "${changes[@]}" - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
  trap - EXIT
  say "imported $BASE_IMAGE in $((SECONDS - t1)) s ($(podman image inspect --format '{{.Size}}' "$BASE_IMAGE") bytes)"
fi
echo "export CONTAINERS_CONF=$conf"
