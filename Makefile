# ossl -- OpenSSL secure layers for GNU Emacs processes.
#
# `make' builds, and only builds: the module, the byte-compiled Lisp
# and the autoloads.  It never installs anything; `make deps' does
# (Debian), and `make test' and `make demo' run it first.  The same
# Makefile builds the module inside an installed package, whose Lisp
# files sit at the top instead of in lisp/.

EMACS    ?= emacs
CC       ?= cc
PKG_CONFIG ?= pkg-config
MAKEINFO ?= makeinfo
SANITIZE ?=

# The Lisp directory, and the version: ossl.el's Version header is the
# one source of truth, compiled into the module so that a module built
# from another version is refused (ossl-module-version).
LISPDIR := $(if $(wildcard lisp/ossl.el),lisp,.)
VERSION := $(shell sed -n 's/^;; Version: *//p' $(LISPDIR)/ossl.el)

OPENSSL_CFLAGS := $(shell $(PKG_CONFIG) --cflags openssl 2>/dev/null)
OPENSSL_LIBS   := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -fPIC -Wall -Wextra -fvisibility=hidden $(OPENSSL_CFLAGS) $(SANITIZE)
override CPPFLAGS += -DOSSL_VERSION='"$(VERSION)"'
LDFLAGS += -shared $(SANITIZE)

# Emacs's module-file-suffix (the loader passes it).
MODULE_SUFFIX ?= .so
MODULE  := $(LISPDIR)/ossl-module$(MODULE_SUFFIX)
SRCS    := $(wildcard module/*.c)
OBJS    := $(SRCS:.c=.o)
HDRS    := $(wildcard module/*.h)
AUTOLOADS := $(LISPDIR)/ossl-autoloads.el
ELS     := $(filter-out %-autoloads.el %-pkg.el,$(wildcard $(LISPDIR)/*.el))
BATCH   := $(EMACS) -Q --batch -L $(LISPDIR) -L test

.PHONY: all help deps tools module compile autoloads lint test demo clean

all: module $(if $(filter lisp,$(LISPDIR)),compile autoloads) ## Build the module, byte-compile the Lisp, write the autoloads (the default; in a package, the module only)

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

deps: ## Install missing Debian packages (apt-get; sudo when not root)
	@EMACS='$(EMACS)' sh build/deps.sh

# What building the module needs: when something is missing, stop with
# one line naming it and the package that provides it.
have_cc      = $(shell command -v $(firstword $(CC)) 2>/dev/null)
have_header  = $(shell printf '\043include <%s>\n' $(1) \
                 | $(CC) $(CPPFLAGS) $(CFLAGS) -E -x c - >/dev/null 2>&1 && echo yes)

tools:
	$(if $(have_cc),,$(error ossl: no C compiler ($(CC)): install gcc (Debian: gcc; Fedora: gcc; Homebrew: gcc) or set CC))
	$(if $(call have_header,openssl/ssl.h),,$(error ossl: no OpenSSL 3 headers (openssl/ssl.h; pkg-config openssl): install libssl-dev (Debian); openssl-devel (Fedora); openssl@3 (Homebrew)))
	$(if $(call have_header,emacs-module.h),,$(error ossl: no emacs-module.h: install emacs-common (Debian); emacs-devel (Fedora); emacs (Homebrew); or set CPPFLAGS=-I<dir>))

module: $(MODULE) ## Build the dynamic module only

$(MODULE): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(OPENSSL_LIBS)

module/%.o: module/%.c $(HDRS) | tools
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The version is compiled into module.o: rebuild it when the version
# changes (the stamp is rewritten only then).
VERSION_STAMP := module/version.stamp
$(shell [ "$$(cat $(VERSION_STAMP) 2>/dev/null)" = '$(VERSION)' ] || echo '$(VERSION)' > $(VERSION_STAMP))
module/module.o: $(VERSION_STAMP)

# Old .elc files go first: one compiled by another Emacs (30's
# defvar-1 is void in 28) would be loaded by the requires below.
compile: $(MODULE) ## Byte-compile the Lisp with warnings as errors
	rm -f $(LISPDIR)/*.elc
	$(BATCH) --eval '(setq byte-compile-error-on-warn t load-prefer-newer t)' -f batch-byte-compile $(ELS)

autoloads: $(AUTOLOADS) ## Write lisp/ossl-autoloads.el from the ;;;###autoload cookies

$(AUTOLOADS): $(ELS) build/package.el
	$(EMACS) -Q --batch -l build/package.el -f ossl-build-autoloads $(LISPDIR)

lint: ## package-lint and checkdoc on lisp/*.el (Debian: elpa-package-lint)
	$(EMACS) -Q --batch -l build/lint.el $(ELS)

test: deps all check-doc lint ## Run the test suite (ERT, real peers on loopback)
	$(BATCH) -l test/run-tests.el

demo: deps all ## Coat a plain connection to a local TLS peer and show what was negotiated
	$(BATCH) -l build/demo.el

clean: ## Remove build products
	rm -rf module/*.o $(VERSION_STAMP) $(MODULE) $(LISPDIR)/*.elc test/*.elc $(AUTOLOADS) dist

# The package (issue 12): dist/ossl-VERSION.tar for package-install-file,
# with the Lisp, the C sources and this Makefile, and the Info manual
# with its dir entry.  ossl-pkg.el comes from ossl.el's headers.
DISTDIR ?= dist
PKGDIR  := $(DISTDIR)/ossl-$(VERSION)
TARBALL := $(DISTDIR)/ossl-$(VERSION).tar
.PHONY: package

package: $(TARBALL) ## Write dist/ossl-VERSION.tar, installable with M-x package-install-file

$(TARBALL): $(ELS) $(SRCS) $(HDRS) Makefile doc/ossl.texi README.org build/package.el
	rm -rf $(PKGDIR) $@
	mkdir -p $(PKGDIR)/module
	cp $(ELS) Makefile README.org $(PKGDIR)/
	cp $(SRCS) $(HDRS) $(PKGDIR)/module/
	$(MAKEINFO) --no-split -o $(PKGDIR)/ossl.info doc/ossl.texi
	install-info --info-dir=$(PKGDIR) $(PKGDIR)/ossl.info
	$(EMACS) -Q --batch -l build/package.el -f ossl-build-descriptor $(LISPDIR)/ossl.el $(PKGDIR)
	tar --sort=name --owner=0 --group=0 --numeric-owner -cf $@ -C $(DISTDIR) ossl-$(VERSION)
	rm -rf $(PKGDIR)
	@echo "Wrote $@ ($$(du -k $@ | cut -f1) KiB)"

# Reliability (issue 8): sanitizers, valgrind, fuzzers.  Everything is
# built under REL_OUT (ignored by git); the normal build is untouched.
REL_OUT        ?= bench/out/reliability
ASAN_CC        ?= gcc
ASAN_FLAGS     ?= -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                  -fno-omit-frame-pointer
REL_CFLAGS      = $(CPPFLAGS) -std=gnu11 -fPIC -Wall -Wextra -fvisibility=hidden $(OPENSSL_CFLAGS)
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

$(REL_OUT)/asan/module.o $(REL_OUT)/plain/module.o: $(VERSION_STAMP)

$(REL_OUT)/plain/%.o: module/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) -O1 -g $(REL_CFLAGS) -c -o $@ $<

$(PLAIN_MODULE): $(patsubst module/%.c,$(REL_OUT)/plain/%.o,$(SRCS))
	$(CC) -shared -o $@ $^ $(OPENSSL_LIBS)

check-asan: deps-reliability $(ASAN_MODULE) $(MODULE) $(AUTOLOADS) ## The whole suite, module under ASan+UBSan, -module-assertions
	sh test/fuzz/sanitized.sh asan $(ASAN_MODULE)

$(REL_OUT)/tsan/%.o: module/%.c $(HDRS)
	@mkdir -p $(@D)
	$(TSAN_CC) -O1 -g $(REL_CFLAGS) -fsanitize=thread -c -o $@ $<

$(TSAN_MODULE): $(patsubst module/%.c,$(REL_OUT)/tsan/%.o,$(SRCS))
	$(TSAN_CC) -shared -fsanitize=thread -o $@ $^ $(OPENSSL_LIBS)

check-tsan: $(TSAN_MODULE) $(AUTOLOADS) ## The relay tests (TSAN_TESTS), module under ThreadSanitizer
	sh test/fuzz/sanitized.sh tsan $(TSAN_MODULE) '$(TSAN_TESTS)'

check-valgrind: deps-reliability $(PLAIN_MODULE) $(AUTOLOADS) ## A representative part of the suite under valgrind memcheck
	sh test/fuzz/sanitized.sh valgrind $(PLAIN_MODULE) '$(VALGRIND_TESTS)'

fuzz-api: deps-reliability $(PLAIN_MODULE) $(ASAN_MODULE) ## Fuzz every ossl- function from Lisp (child Emacs)
	$(EMACS) -Q --batch -L lisp -L test -l test/fuzz/fuzz-api.el \
	  -f ossl-fuzz-api-driver $(FUZZ_API_SEED) $(FUZZ_API_CALLS) $(PLAIN_MODULE) $(ASAN_MODULE)

fuzz-engine: deps-reliability ## libFuzzer on the engine (client, server) and the parsers, FUZZ_SECONDS each
	sh test/fuzz/fuzz-engine.sh $(FUZZ_SECONDS)

# Benchmarks (issue 7), not part of make test: bench/RESULTS.md.
.PHONY: bench bench-crypto

bench/peer: bench/peer.c
	$(CC) -O2 -g -Wall -Wextra $(OPENSSL_CFLAGS) -o $@ $< $(OPENSSL_LIBS) -lpthread

bench: all bench/peer ## Benchmark against built-in GnuTLS and plain TCP (BENCH_QUICK=1: a smoke run)
	$(BATCH) -L bench -l bench/run-bench.el -f ossl-bench-main

bench-crypto: all bench/peer ## Only the crypto benchmarks: digest, HMAC, AES-GCM vs secure-hash and GnuTLS
	BENCH_ONLY=digest,digest-file,hmac,gcm,gcm-dec $(BATCH) -L bench -l bench/run-bench.el -f ossl-bench-main

# Documentation (issue 6): the Info manual, and the check that every
# public function, option and command has a docstring and an entry in it.

.PHONY: info check-doc

info: doc/ossl.info ## Build the Info manual doc/ossl.info (then install-info it)

doc/ossl.info: doc/ossl.texi
	$(MAKEINFO) --no-split -o $@ $<

check-doc: ## Fail on a public definition without docstring or manual entry
	$(EMACS) -Q --batch -l build/check-doc.el
