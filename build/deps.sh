#!/bin/sh
# Install the Debian packages ossl needs, when they are missing.
set -e
PKGS="emacs-nox libssl-dev openssl pkg-config gcc make gnutls-bin python3 texinfo tmux python3-aiosmtpd dovecot-imapd"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "Installing missing packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
