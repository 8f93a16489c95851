#!/bin/sh
# Install the Debian packages ossl needs, when they are missing.
#
#   sh build/deps.sh              what `make test' needs
#   sh build/deps.sh reliability  and what `make check-asan',
#                                 `check-valgrind' and `fuzz-engine' need
set -e
PKGS="emacs-nox libssl-dev openssl pkg-config gcc make gnutls-bin python3 texinfo tmux python3-aiosmtpd dovecot-imapd"
if [ "${1:-}" = reliability ]; then
  # gcc brings libasan and libubsan; libFuzzer comes with clang's runtime.
  PKGS="$PKGS clang libclang-rt-14-dev valgrind"
fi
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
