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

test: all ## Run the test suite (ERT, real peers on loopback)
	$(BATCH) -l test/run-tests.el

demo: all ## Coat a plain connection to a local TLS peer and show what was negotiated
	$(BATCH) -l build/demo.el

clean: ## Remove build products
	rm -f module/*.o $(MODULE) lisp/*.elc test/*.elc
