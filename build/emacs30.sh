#!/bin/sh
# Install Emacs 30.1 from Debian's bookworm-backports *beside* the
# system Emacs 28.2, as /usr/bin/emacs-30 (28.2 stays `emacs').
# The 30.1 packages would replace 28.2's (same package names), so they
# are downloaded and unpacked by hand: their versioned directories
# (/usr/share/emacs/30.1, /usr/lib/emacs/30.1, /usr/libexec/emacs/30.1)
# do not collide with 28.2's.
set -e
BIN=/usr/bin/emacs-30
if [ -x "$BIN" ] && "$BIN" --batch --eval '(kill-emacs (if (= emacs-major-version 30) 0 1))' 2>/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
SRC=/etc/apt/sources.list.d/ossl-bookworm-backports.sources
if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "Adding Debian's bookworm-backports suite ($SRC)"
  printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' \
    'Suites: bookworm-backports' 'Components: main' \
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' | $SUDO tee "$SRC" >/dev/null
fi
$SUDO apt-get update -q
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
chmod 755 "$TMP"
cd "$TMP"
apt-get download -q -t bookworm-backports emacs-nox emacs-common emacs-bin-common emacs-el
# The shared libraries Emacs 30.1 links (libtree-sitter0 is new since 28.2).
deps=$(dpkg-deb -f emacs-nox_*.deb Depends | tr ',' '\n' \
       | sed -n 's/^ *\(lib[^ (|]*\).*/\1/p' | tr '\n' ' ')
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $deps
mkdir x
for f in *.deb; do dpkg-deb -x "$f" x; done
for d in share/emacs/30.1 lib/emacs/30.1 libexec/emacs/30.1; do
  $SUDO rm -rf "/usr/$d"
  $SUDO mkdir -p "/usr/$(dirname $d)"
  $SUDO cp -a "x/usr/$d" "/usr/$d"
done
$SUDO install -m 755 x/usr/bin/emacs-nox "$BIN"
"$BIN" --version | head -1
