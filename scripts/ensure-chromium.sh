#!/bin/sh
# Make sure Debian's headless Chromium is at /usr/bin/chromium (used by
# test/integration/report-browser.test.ts). Idempotent and quiet when it is already there;
# installs it with apt-get otherwise; exits non-zero with a message when it cannot.
set -eu
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available; install Chromium so that $CHROMIUM exists" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ensure-chromium: $CHROMIUM is missing and installing needs root (no sudo); run: apt-get install -y chromium" >&2
    exit 1
  fi
fi
echo "ensure-chromium: installing chromium with apt-get" >&2
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium; } >/tmp/ensure-chromium.log 2>&1; then
  echo "ensure-chromium: apt-get install chromium failed; see /tmp/ensure-chromium.log" >&2
  tail -n 20 /tmp/ensure-chromium.log >&2
  exit 1
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: apt-get succeeded but $CHROMIUM is still missing" >&2
  exit 1
fi
