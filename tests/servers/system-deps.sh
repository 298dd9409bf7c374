#!/usr/bin/env bash
# Install the Debian packages the test suite drives: Dovecot (IMAP) and Chromium (browser tests).
set -euo pipefail

missing=()
command -v /usr/sbin/dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd)
command -v /usr/bin/chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them (apt-get install ${missing[*]}) and run make test again." >&2
  exit 1
fi
echo "Installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
