# ossl -- OpenSSL secure layers for GNU Emacs processes.

EMACS    ?= emacs
CC       ?= cc
PKG_CONFIG ?= pkg-config
SANITIZE ?=

OPENSSL_CFLAGS := $(shell $(PKG_CONFIG) --cflags openssl 2>/dev/null)
OPENSSL_LIBS   := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -fPIC -Wall -Wextra -fvisibility=hidden $(OPENSSL_CFLAGS) $(SANITIZE)
LDFLAGS += -shared $(SANITIZE)

MODULE  := lisp/ossl-module.so
SRCS    := $(wildcard module/*.c)
OBJS    := $(SRCS:.c=.o)
HDRS    := $(wildcard module/*.h)
ELS     := $(wildcard lisp/*.el)
BATCH   := $(EMACS) -Q --batch -L lisp -L test

.PHONY: all help deps module compile test demo clean

all: deps module compile ## Build the module and byte-compile the Lisp (the default)

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

deps: ## Install missing Debian packages (apt-get; sudo when not root)
	@sh build/deps.sh

module: $(MODULE) ## Build the dynamic module only

$(MODULE): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(OPENSSL_LIBS)

module/%.o: module/%.c $(HDRS)
	$(CC) $(CFLAGS) -c -o $@ $<

compile: $(MODULE) ## Byte-compile the Lisp with warnings as errors
	$(BATCH) --eval '(setq byte-compile-error-on-warn t)' -f batch-byte-compile $(ELS)

test: all check-doc ## Run the test suite (ERT, real peers on loopback)
	$(BATCH) -l test/run-tests.el

demo: all ## Coat a plain connection to a local TLS peer and show what was negotiated
	$(BATCH) -l build/demo.el

clean: ## Remove build products
	rm -f module/*.o $(MODULE) lisp/*.elc test/*.elc

# Reliability (issue 8): sanitizers, valgrind, fuzzers.  Everything is
# built under REL_OUT (ignored by git); the normal build is untouched.
REL_OUT        ?= bench/out/reliability
ASAN_CC        ?= gcc
ASAN_FLAGS     ?= -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                  -fno-omit-frame-pointer
REL_CFLAGS      = -std=gnu11 -fPIC -Wall -Wextra -fvisibility=hidden $(OPENSSL_CFLAGS)
ASAN_MODULE    := $(REL_OUT)/asan/ossl-module.so
PLAIN_MODULE   := $(REL_OUT)/plain/ossl-module.so
VALGRIND_TESTS ?= ossl-x509/\|ossl-rel/\(secrets\|gc-\|engine-\|fault-\|reentrant\)\|ossl-server/in-emacs\|ossl/openssl-server-tls13
FUZZ_CC        ?= clang
FUZZ_SECONDS   ?= 60
FUZZ_API_CALLS ?= 100000
FUZZ_API_SEED  ?= 20261122

TSAN_CC        ?= gcc
TSAN_MODULE    := $(REL_OUT)/tsan/ossl-module.so
# Sockets under the descriptor (sanitized.sh sets it), with tests that
# use no :nowait connection: glibc's getaddrinfo_a thread (Emacs's
# :nowait lookups) crashes in the ThreadSanitizer runtime.
TSAN_TESTS     ?= ossl-sock/[^o]\|^ossl/\|ossl-verify/status\|ossl-rel/fault-\(reset-in-t\|bad\|trunc\)\|ossl-server/\(alpn\|half-close\|clean\|delete\|python\|resumption-between\)

.PHONY: deps-reliability check-asan check-valgrind check-tsan fuzz-api fuzz-engine

deps-reliability: ## Install what the reliability targets need too (clang, libFuzzer, valgrind)
	@sh build/deps.sh reliability

$(REL_OUT)/asan/%.o: module/%.c $(HDRS)
	@mkdir -p $(@D)
	$(ASAN_CC) -O1 -g $(REL_CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

$(ASAN_MODULE): $(patsubst module/%.c,$(REL_OUT)/asan/%.o,$(SRCS))
	$(ASAN_CC) -shared $(ASAN_FLAGS) -o $@ $^ $(OPENSSL_LIBS)

$(REL_OUT)/plain/%.o: module/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) -O1 -g $(REL_CFLAGS) -c -o $@ $<

$(PLAIN_MODULE): $(patsubst module/%.c,$(REL_OUT)/plain/%.o,$(SRCS))
	$(CC) -shared -o $@ $^ $(OPENSSL_LIBS)

check-asan: deps-reliability $(ASAN_MODULE) ## The whole suite, module under ASan+UBSan, -module-assertions
	sh test/fuzz/sanitized.sh asan $(ASAN_MODULE)

$(REL_OUT)/tsan/%.o: module/%.c $(HDRS)
	@mkdir -p $(@D)
	$(TSAN_CC) -O1 -g $(REL_CFLAGS) -fsanitize=thread -c -o $@ $<

$(TSAN_MODULE): $(patsubst module/%.c,$(REL_OUT)/tsan/%.o,$(SRCS))
	$(TSAN_CC) -shared -fsanitize=thread -o $@ $^ $(OPENSSL_LIBS)

check-tsan: $(TSAN_MODULE) ## The relay tests (TSAN_TESTS), module under ThreadSanitizer
	sh test/fuzz/sanitized.sh tsan $(TSAN_MODULE) '$(TSAN_TESTS)'

check-valgrind: deps-reliability $(PLAIN_MODULE) ## A representative part of the suite under valgrind memcheck
	sh test/fuzz/sanitized.sh valgrind $(PLAIN_MODULE) '$(VALGRIND_TESTS)'

fuzz-api: deps-reliability $(PLAIN_MODULE) $(ASAN_MODULE) ## Fuzz every ossl- function from Lisp (child Emacs)
	$(EMACS) -Q --batch -L lisp -L test -l test/fuzz/fuzz-api.el \
	  -f ossl-fuzz-api-driver $(FUZZ_API_SEED) $(FUZZ_API_CALLS) $(PLAIN_MODULE) $(ASAN_MODULE)

fuzz-engine: deps-reliability ## libFuzzer on the engine (client, server) and the parsers, FUZZ_SECONDS each
	sh test/fuzz/fuzz-engine.sh $(FUZZ_SECONDS)

# Benchmarks (issue 7), not part of make test: bench/RESULTS.md.
.PHONY: bench

bench/peer: bench/peer.c
	$(CC) -O2 -g -Wall -Wextra $(OPENSSL_CFLAGS) -o $@ $< $(OPENSSL_LIBS) -lpthread

bench: all bench/peer ## Benchmark against built-in GnuTLS and plain TCP (BENCH_QUICK=1: a smoke run)
	$(BATCH) -L bench -l bench/run-bench.el -f ossl-bench-main

# Documentation (issue 6): the Info manual, and the check that every
# public function, option and command has a docstring and an entry in it.
MAKEINFO ?= makeinfo
.PHONY: info check-doc

info: doc/ossl.info ## Build the Info manual doc/ossl.info (then install-info it)

doc/ossl.info: doc/ossl.texi
	$(MAKEINFO) --no-split -o $@ $<

check-doc: ## Fail on a public definition without docstring or manual entry
	$(EMACS) -Q --batch -l build/check-doc.el
