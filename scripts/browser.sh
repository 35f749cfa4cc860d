#!/usr/bin/env bash
# Install Debian's Chromium and ChromeDriver for the dashboard's browser tests, if missing.
set -eu
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "browser: chromium/chromedriver missing; install Debian's chromium and chromium-driver" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
echo "browser: $(/usr/bin/chromium --version)"
