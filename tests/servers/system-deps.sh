#!/usr/bin/env bash
# Install the Debian packages the test suite drives: Dovecot (IMAP, and LMTP for Postfix to
# deliver into), Postfix (end-to-end submission tests), Chromium (browser tests), Redis
# (a private broker for the tests that kill it), and GNU gettext (makemessages, which the test of
# the translation catalogues runs, and msgfmt).
# The tests run their own private Dovecot and Postfix; the system-wide services stay stopped.
set -euo pipefail

missing=()
command -v /usr/sbin/dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd)
[ -x /usr/lib/dovecot/lmtp ] || missing+=(dovecot-lmtpd)
command -v /usr/sbin/postfix >/dev/null 2>&1 || missing+=(postfix)
command -v /usr/bin/chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them (apt-get install ${missing[*]}) and run make test again." >&2
  exit 1
fi
echo "Installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
# No /etc/postfix/main.cf and no questions: the tests configure their own instance.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

# Keep the packages from starting system-wide daemons (a policy-rc.d that answers 101 is
# what invoke-rc.d and deb-systemd-invoke ask); a policy the machine already has is kept.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null

# Belt and braces, for the Postfix installed just now only (never a mail server that was
# already there): if something started the system-wide instance anyway, stop it.
if [[ " ${missing[*]} " == *" postfix "* ]] && [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1; then
  echo "Stopping the system-wide Postfix that the package install started ..."
  postfix stop >/dev/null 2>&1 || true
fi
