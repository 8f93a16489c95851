#!/bin/sh
# ossl-view-tmux-test.sh EMACS INIT HOST PORT EXPECT
#
# Check the certificate viewer as a person sees it: run `EMACS -nw -Q
# -l INIT' inside a private tmux server, type
#   M-x ossl-view-certificate-chain RET HOST RET PORT RET
# and read the screen back with capture-pane.  Succeed (exit 0) when
#  - a line starts with "Verdict:" and contains the extended regexp EXPECT,
#  - the verdict text and the word EXPIRED are drawn in colour (an SGR
#    colour escape right before them in `capture-pane -e'),
#  - `n' then TAB expands the first certificate into its full text.
# Otherwise print what was on the screen and exit 1.  Used by the ERT
# test ossl-view/tmux-terminal; INIT puts lisp/ on the load path,
# requires ossl-view and sets ossl-view-ca.
set -u
EMACS=$1
INIT=$2
HOST=$3
PORT=$4
EXPECT=$5

SOCK="ossl-view-test-$$"
ESC=$(printf '\033')

tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server >/dev/null 2>&1' EXIT INT TERM

screen() { tm capture-pane -p -t ossl; }

fail() {
  echo "FAIL: $*"
  echo "---- screen ----"
  screen
  echo "---- end of screen ----"
  exit 1
}

# wait_for REGEXP SECONDS
wait_for() {
  i=0
  while [ "$i" -lt $(($2 * 10)) ]; do
    screen | grep -Eq -- "$1" && return 0
    sleep 0.1
    i=$((i + 1))
  done
  fail "timed out after $2 s waiting for: $1"
}

tm new-session -d -s ossl -x 100 -y 50 \
  "exec '$EMACS' -nw -Q -l '$INIT'" || { echo "FAIL: tmux new-session"; exit 1; }

wait_for 'scratch' 30
tm send-keys -t ossl M-x
wait_for '^M-x' 10
tm send-keys -t ossl -l 'ossl-view-certificate-chain'
tm send-keys -t ossl Enter
wait_for 'Host:' 10
tm send-keys -t ossl -l "$HOST"
tm send-keys -t ossl Enter
wait_for 'Port' 10
tm send-keys -t ossl -l "$PORT"
tm send-keys -t ossl Enter
wait_for '^Verdict:' 30

screen | grep -Eq -- "^Verdict: +$EXPECT" || fail "no verdict line matching: $EXPECT"

colours=$(tm capture-pane -p -e -t ossl)
# The escapes right before a text must set a colour (30-37, 90-97, 38;...).
coloured() {
  printf '%s\n' "$colours" \
    | grep -Eo "(${ESC}\[[0-9;]*m)+$1" \
    | grep -Eq "${ESC}\[([0-9;]*;)?(3[0-7]|9[0-7]|38)[;m]"
}
coloured 'NOT TRUSTED' || coloured 'Trusted' || fail "the verdict is not coloured"
coloured '[^ ]*EXPIRED' || coloured '2020-01-01 to' || fail "the expired validity is not coloured"

# TAB on the first certificate shows its full text.
tm send-keys -t ossl C-x 1
tm send-keys -t ossl n
tm send-keys -t ossl Tab
wait_for 'Subject Public Key Info' 10

echo "ok: the viewer shows the verdict, in colour, in emacs -nw"
exit 0
