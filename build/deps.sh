#!/bin/sh
# Install the Debian packages ossl's tests and tools need, when they
# are missing (`make deps'; `make test' and `make demo' run it first;
# plain `make' never does).
#
#   sh build/deps.sh              what `make test' needs
#   sh build/deps.sh reliability  and what `make check-asan',
#                                 `check-valgrind' and `fuzz-engine' need
#   sh build/deps.sh emacs-30     and Emacs 30.1 beside 28.2, as emacs-30
#                                 (also when $EMACS is emacs-30)
set -e
PKGS="emacs-nox libssl-dev openssl pkg-config gcc make gnutls-bin python3 texinfo install-info tmux python3-aiosmtpd dovecot-imapd elpa-package-lint git tar"
emacs30=""
case "${EMACS:-}" in emacs-30|*/emacs-30) emacs30=yes ;; esac
for arg in "$@"; do
  case "$arg" in
    # gcc brings libasan and libubsan; libFuzzer comes with clang's runtime.
    reliability) PKGS="$PKGS clang libclang-rt-14-dev valgrind" ;;
    emacs-30) emacs30=yes ;;
    *) echo "build/deps.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "build/deps.sh: not a Debian system: install the equivalents of$PKGS yourself"
  exit 0
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "Installing missing packages:$missing"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
fi
if [ -n "$emacs30" ]; then
  sh "$(dirname "$0")/emacs30.sh"
fi
