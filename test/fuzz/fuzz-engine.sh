#!/bin/sh
# fuzz-engine.sh SECONDS -- build the libFuzzer targets of
# test/fuzz/fuzz_engine.c and run each for SECONDS (default 60).
#
# Targets: client, server (the engine against mutated TLS records), mitm
# (a live pair, the input mutating the flights between them), parse
# (certificates, keys, sessions, ALPN, CA data) and relay (a live pair,
# each side relayed on its I/O thread as a coated socket is).  Seeds: real handshakes
# between the engine's two sides, recorded by the binaries themselves
# (OSSL_FUZZ_SEEDGEN), plus handshakes with openssl, gnutls-serv and
# Python recorded by test/fuzz/record-seeds.el when Emacs and the peers
# are there.  Corpora grow in $REL_OUT/fuzz/corpus/ and are kept across
# runs; crashes, leaks and timeouts land in $REL_OUT/fuzz/artifacts/.
# Exit status: non-zero when any target found anything.
#
# Needs clang with libFuzzer: apt-get install clang libclang-rt-14-dev

set -u
secs=${1:-60}
rel=${REL_OUT:-bench/out/reliability}
out=$rel/fuzz
cc=${FUZZ_CC:-clang}
emacs=${EMACS:-emacs}
make=${MAKE:-make}

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "fuzz-engine: no $cc; install clang and libclang-rt-14-dev" >&2
  exit 2
fi
ossl_cflags=$(pkg-config --cflags openssl 2>/dev/null)
ossl_libs=$(pkg-config --libs openssl 2>/dev/null || echo "-lssl -lcrypto")
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
flags="$flags -Wall -Wextra -Wno-deprecated-declarations -Imodule $ossl_cflags"
mkdir -p "$out/artifacts" "$out/seeds" "$out/corpus"

targets="client:1 server:2 mitm:3 parse:4 relay:5"
for t in $targets; do
  name=${t%%:*}; n=${t#*:}
  extra=
  [ "$name" = relay ] && extra="module/relay.c -lpthread"
  # shellcheck disable=SC2086
  $cc $flags -DOSSL_FUZZ_TARGET="$n" -o "$out/fuzz-$name" \
    test/fuzz/fuzz_engine.c module/engine.c module/engine-ctx.c \
    module/engine-session.c module/x509.c module/verify.c module/crypto.c $extra $ossl_libs || exit 2
  rm -rf "$out/seeds/$name"
  OSSL_FUZZ_SEEDGEN="$out/seeds/$name" "$out/fuzz-$name" >/dev/null 2>&1 || exit 2
  mkdir -p "$out/corpus/$name"
done

# Handshakes with other stacks (optional: skipped without Emacs/peers).
if command -v "$emacs" >/dev/null 2>&1 && $make -s "$rel/plain/ossl-module.so" >/dev/null 2>&1; then
  lispdir=$(mktemp -d)
  cp lisp/*.el "$lispdir"/ && cp "$rel/plain/ossl-module.so" "$lispdir"/
  rm -rf "$out/seeds/client-real" "$out/seeds/server-real"
  timeout 300 "$emacs" -Q --batch -L "$lispdir" -L test -l test/fuzz/record-seeds.el \
    -f ossl-record-seeds "$out/seeds/client-real" "$out/seeds/server-real" 2>&1 \
    | grep -E '^(recorded|record-seeds)' || true
  rm -rf "$lispdir"
fi

status=0
summary=$out/summary.txt
: >"$summary"
for t in $targets; do
  name=${t%%:*}
  extra=""
  [ -d "$out/seeds/$name-real" ] && extra="$out/seeds/$name-real"
  log=$out/$name.log
  # shellcheck disable=SC2086
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/fuzz-$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
      "$out/corpus/$name" "$out/seeds/$name" $extra >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(ls "$out/corpus/$name" | wc -l)
  seeds=$(ls "$out/seeds/$name" $extra 2>/dev/null | grep -vc ':$\|^$')
  line="$name: exit $rc, ${secs} s, ${execs:-0} execs, cov ${cov:-?} ft ${ft:-?}, corpus $units units, seeds $seeds"
  echo "$line" | tee -a "$summary"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -20
  fi
done
echo "fuzz-engine: $( [ $status -eq 0 ] && echo passed || echo FAILED ), logs in $out"
exit $status
