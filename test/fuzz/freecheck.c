/* freecheck.c -- find secrets left in memory that is given back.

   Preloaded into a child Emacs by test/ossl-reliability-tests.el:

     FREECHECK_NEEDLES="secret-pass:other" FREECHECK_LOG=file \
       LD_PRELOAD=./freecheck.so emacs ...

   Every free () and realloc () called from ossl-module.so, libssl or
   libcrypto scans the block it gives back for each needle (a secret:
   a password, a line of a private key) and appends one line per hit to
   FREECHECK_LOG: "HIT <needle-index> <caller's file>".  Emacs's own
   frees (its Lisp strings hold the secrets the user gave) are not
   checked.  At exit it writes "CHECKED <n>", the number of blocks
   scanned, so that a test knows the hook was live.  */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* glibc's own allocator, under the names it exports for this.  */
extern void *__libc_malloc (size_t);
extern void *__libc_calloc (size_t, size_t);
extern void *__libc_realloc (void *, size_t);
extern void __libc_free (void *);

static char *needles[8];
static size_t needle_len[8];
static int nneedles = -1;
static unsigned long checked;
static int busy;

static void
init (void)
{
  const char *env;
  char *copy, *tok, *save;

  if (nneedles >= 0)
    return;
  nneedles = 0;
  env = getenv ("FREECHECK_NEEDLES");
  if (!env || !(copy = strdup (env)))
    return;
  for (tok = strtok_r (copy, ":", &save); tok && nneedles < 8;
       tok = strtok_r (NULL, ":", &save))
    if (*tok)
      {
        needles[nneedles] = tok;
        needle_len[nneedles] = strlen (tok);
        nneedles++;
      }
}

/* Is the code at ADDR in a library whose frees we check?  */
static int
watched (void *addr)
{
  Dl_info info;
  const char *f;
  if (!dladdr (addr, &info) || !info.dli_fname)
    return 0;
  f = info.dli_fname;
  return strstr (f, "ossl-module") || strstr (f, "libssl.so")
    || strstr (f, "libcrypto.so");
}

static void
scan (void *p, void *caller)
{
  size_t n;
  int i;
  Dl_info info;

  if (!p || busy || nneedles <= 0 || !watched (caller))
    return;
  busy = 1;
  n = malloc_usable_size (p);
  checked++;
  for (i = 0; i < nneedles; i++)
    if (n >= needle_len[i] && memmem (p, n, needles[i], needle_len[i]))
      {
        const char *log = getenv ("FREECHECK_LOG");
        FILE *f = log ? fopen (log, "a") : NULL;
        if (f)
          {
            fprintf (f, "HIT %d %s\n", i,
                     dladdr (caller, &info) && info.dli_fname
                     ? info.dli_fname : "?");
            fclose (f);
          }
      }
  busy = 0;
}

/* Fresh blocks are zeroed whole, so that a hit is never what an
   earlier owner of the memory left in it.  */
void *
malloc (size_t size)
{
  void *p = __libc_malloc (size);
  if (p)
    memset (p, 0, malloc_usable_size (p));
  return p;
}

void *
calloc (size_t n, size_t size)
{
  void *p = __libc_calloc (n, size);
  if (p)
    memset (p, 0, malloc_usable_size (p));
  return p;
}

void
free (void *p)
{
  init ();
  scan (p, __builtin_return_address (0));
  __libc_free (p);
}

void *
realloc (void *p, size_t size)
{
  void *q;
  size_t old;
  init ();
  scan (p, __builtin_return_address (0));
  old = p ? malloc_usable_size (p) : 0;
  q = __libc_realloc (p, size);
  if (q && malloc_usable_size (q) > old)
    memset ((char *) q + old, 0, malloc_usable_size (q) - old);
  return q;
}

__attribute__ ((destructor)) static void
report (void)
{
  const char *log = getenv ("FREECHECK_LOG");
  FILE *f = log ? fopen (log, "a") : NULL;
  if (f)
    {
      fprintf (f, "CHECKED %lu\n", checked);
      fclose (f);
    }
}
