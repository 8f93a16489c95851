#!/bin/sh
# sanitized.sh -- run the ERT suite (or part of it) with a module built
# for a memory checker, and fail on any report that comes from the
# module.
#
#   sh test/fuzz/sanitized.sh asan     MODULE.so [SELECTOR]
#   sh test/fuzz/sanitized.sh valgrind MODULE.so [SELECTOR]
#   sh test/fuzz/sanitized.sh tsan     MODULE.so [SELECTOR]
#
# MODULE.so is copied with the Lisp files into a private directory next
# to it, so that the normal build in lisp/ is never touched.  Reports
# go to a log/ directory next to MODULE.so.  A report is the module's
# when one of its frames is in the module, libssl or libcrypto (Emacs
# itself uses neither); the others are Emacs's own and only counted.
#
# asan: Emacs runs with the ASan runtime preloaded (the module is built
# with -fsanitize=address,undefined) and with -module-assertions, which
# checks every emacs_env call the module makes.  Child processes (peers)
# get no preload.
# valgrind: Emacs runs under memcheck; errors and definite leaks count.
# tsan: Emacs runs with the ThreadSanitizer runtime preloaded (the
# module is built with -fsanitize=thread): races between the relay
# thread and Emacs's thread inside the module count.

set -u
mode=$1
so=$2
selector=${3:-${OSSL_TEST_SELECTOR:-}}
EMACS=${EMACS:-emacs}
ASAN_CC=${ASAN_CC:-${CC:-cc}}
root=$(pwd)
out=$(cd "$(dirname "$so")" && pwd)
lispdir=$out/lisp
logdir=$out/log

rm -rf "$lispdir" "$logdir"
mkdir -p "$lispdir" "$logdir"
cp "$root"/lisp/*.el "$lispdir"/
cp "$so" "$lispdir"/ossl-module.so

# Child processes (peers, child Emacsen loading the module) keep the
# runtime, without leak checking (Python and openssl are not ours);
# their other reports go to child-asan.* and are classified as well.
# libgccjit deadlocks under the ASan runtime, in the child Emacs that
# native-compiles a trampoline or a function: that child (which never
# loads the module) runs without the runtime.
children="(progn (setenv \"ASAN_OPTIONS\" \"detect_leaks=0:log_path=$logdir/child-asan:suppressions=$root/build/asan.supp:allocator_may_return_null=1\") (require 'comp nil t) (when (fboundp 'comp--native-compile) (advice-add 'comp--native-compile :around (lambda (orig &rest args) (let ((process-environment (seq-remove (lambda (v) (string-prefix-p \"LD_PRELOAD=\" v)) process-environment))) (apply orig args))))))"
status=0
start=$(date +%s)
case $mode in
  asan)
    runtime=$($ASAN_CC -print-file-name=libasan.so)
    [ -f "$runtime" ] || { echo "sanitized.sh: no libasan.so for $ASAN_CC" >&2; exit 2; }
    OSSL_TEST_SELECTOR=$selector OSSL_REL_SANITIZER=asan OSSL_REL_SCALE=0.2 \
    LD_PRELOAD=$runtime \
    ASAN_OPTIONS="detect_leaks=1:log_path=$logdir/asan:suppressions=$root/build/asan.supp:detect_odr_violation=0:allocator_may_return_null=1" \
    LSAN_OPTIONS="suppressions=$root/build/lsan.supp:print_suppressions=0:exitcode=0" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logdir/ubsan" \
      "$EMACS" -Q --batch -module-assertions -L "$lispdir" -L "$root/test" \
        --eval "$children" -l "$root/test/run-tests.el" >"$logdir/suite.out" 2>&1
    status=$?
    ;;
  tsan)
    runtime=$(${TSAN_CC:-gcc} -print-file-name=libtsan.so)
    [ -f "$runtime" ] || { echo "sanitized.sh: no libtsan.so" >&2; exit 2; }
    OSSL_TEST_SELECTOR=$selector OSSL_REL_SANITIZER=tsan OSSL_REL_SCALE=0.2 \
    LD_PRELOAD=$runtime \
    TSAN_OPTIONS="log_path=$logdir/tsan:halt_on_error=0:report_signal_unsafe=0" \
      "$EMACS" -Q --batch -L "$lispdir" -L "$root/test" \
        --eval "(setenv \"LD_PRELOAD\")" \
        --eval "(with-eval-after-load 'ossl-socket (setq ossl-socket-data-path 'descriptor))" \
        -l "$root/test/run-tests.el" >"$logdir/suite.out" 2>&1
    status=$?
    ;;
  valgrind)
    OSSL_TEST_SELECTOR=$selector OSSL_REL_SANITIZER=valgrind OSSL_REL_SCALE=0.01 \
      valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
        --errors-for-leak-kinds=definite --num-callers=40 --child-silent-after-fork=yes \
        --suppressions="$root/build/valgrind.supp" \
        --log-file="$logdir/vg.%p" \
      "$EMACS" -Q --batch -L "$lispdir" -L "$root/test" \
        -l "$root/test/run-tests.el" >"$logdir/suite.out" 2>&1
    status=$?
    ;;
  *) echo "usage: $0 asan|valgrind|tsan MODULE.so [SELECTOR]" >&2; exit 2 ;;
esac
secs=$(( $(date +%s) - start ))

tail -n 1 "$logdir/suite.out"
# Split the logs into reports; a report is ours when a frame is ours.
awk -v mode="$mode" '
  function flush() {
    if (rec != "") {
      total++
      if (rec ~ /ossl-module|libssl\.so|libcrypto\.so|module\/[a-z0-9-]+\.c/) {
        ours++; print rec > "/dev/stderr"
      }
    }
    rec = ""
  }
  # ASan/LSan/UBSan: a report starts with these lines.
  /^(Direct|Indirect) leak of|ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer:/ {
    flush(); rec = $0; inrec = 1; next }
  /^SUMMARY:/ { flush(); inrec = 0; next }
  # valgrind: blank "==PID== " lines separate reports.
  mode == "valgrind" && /^==[0-9]+== *$/ { flush(); inrec = 0; next }
  mode == "valgrind" && /^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and dest|Argument|[0-9,]+ bytes in [0-9,]+ blocks are definitely)/ {
    flush(); rec = $0; inrec = 1; next }
  inrec { rec = rec "\n" $0 }
  END { flush(); printf "%d reports in total, %d from the module\n", total, ours; exit ours > 0 }
' $(ls "$logdir"/asan.* "$logdir"/child-asan.* "$logdir"/ubsan.* "$logdir"/vg.* "$logdir"/tsan.* 2>/dev/null) </dev/null \
  >"$logdir/classified.txt" 2>"$logdir/module-reports.txt"
cat "$logdir/classified.txt"
ours=$(sed -n 's/.*, \([0-9]*\) from the module$/\1/p' "$logdir/classified.txt")
if [ -s "$logdir/module-reports.txt" ]; then
  echo "== reports from the module:"; cat "$logdir/module-reports.txt"
fi
echo "$mode: suite exit status $status, $secs s; logs in $logdir"
[ "$status" -eq 0 ] && [ "${ours:-1}" -eq 0 ]
