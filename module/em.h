/* em.h -- the only helpers that touch emacs_env (after libegit2's em_*).

   Every em_ function that can fail leaves a pending non-local exit in
   ENV and returns false / NULL; callers return at once.  */

#ifndef OSSL_EM_H
#define OSSL_EM_H

#include <stdbool.h>
#include <stddef.h>
#include <emacs-module.h>

/* Symbols interned once at load time (global references).  */
extern emacs_value em_nil, em_t;

bool em_init (emacs_env *env);
emacs_value em_intern (emacs_env *env, const char *name);
bool em_nilp (emacs_env *env, emacs_value v);

/* Signal ERROR-SYMBOL with one message string: (SYMBOL "MSG").  */
void em_signal (emacs_env *env, const char *symbol, const char *msg);
/* t when RC is 0; else signal ERROR-SYMBOL with MSG and return NULL.  */
emacs_value em_status (emacs_env *env, int rc, const char *symbol,
                       const char *msg);
/* Signal (wrong-type-argument PREDICATE VALUE).  */
void em_wrong_type (emacs_env *env, const char *predicate, emacs_value v);

/* Copy a Lisp string (unibyte strings give their bytes, multibyte
   ones UTF-8) into a fresh NUL-terminated malloc'd buffer; *LEN gets
   the byte count without the NUL when LEN is not NULL.  Signals
   wrong-type-argument stringp when V is not a string.  */
char *em_string (emacs_env *env, emacs_value v, ptrdiff_t *len);
/* Same, but nil gives NULL without error; check non_local_exit_check
   to tell it from a failure.  */
char *em_string_or_nil (emacs_env *env, emacs_value v, bool *failed);
/* Free a buffer from em_string after wiping it (it may hold keys).  */
void em_free_secret (char *s, ptrdiff_t len);

/* Where an encrypted key's password comes from: a string, or a Lisp
   function called only if OpenSSL finds the key encrypted.  The
   callback runs inside the primitive's call, so ENV is valid.  */
struct em_password
{
  emacs_env *env;
  emacs_value fn;
  char *str;
  ptrdiff_t len;
};

/* Fill *PW from V: nil (no password: *PW is empty), a string (copied
   into C) or a function.  Signals wrong-type-argument stringp for
   anything else.  */
bool em_password (emacs_env *env, emacs_value v, struct em_password *pw);
/* True when *PW holds a password or a function.  */
bool em_password_p (const struct em_password *pw);
/* A pem_password_cb over a struct em_password: copies the string, or
   calls the function (a non-local exit is left pending in ENV, and
   the callback reports failure).  Wipes what it copied.  */
int em_password_cb (char *buf, int size, int rwflag, void *pw);
/* Wipe and free the copied password.  */
void em_password_free (struct em_password *pw);

emacs_value em_unibyte (emacs_env *env, const char *data, size_t len);
emacs_value em_str (emacs_env *env, const char *s);
/* S as a Lisp string, or nil when S is NULL (a value that is absent
   or unavailable).  */
emacs_value em_str_or_nil (emacs_env *env, const char *s);
/* S as a Lisp string, or nil when S is NULL or "" (a value the engine
   reports as empty when there is none).  */
emacs_value em_nonempty_str_or_nil (emacs_env *env, const char *s);
/* An integer in [MIN, MAX], else wrong-type / args-out-of-range.  */
bool em_int (emacs_env *env, emacs_value v, long min, long max, long *out);

/* True when V is a user pointer whose finalizer is FIN.  */
bool em_user_ptr_p (emacs_env *env, emacs_value v, emacs_finalizer fin);
/* A user pointer whose finalizer is FIN, else wrong-type-argument
   PREDICATE.  Returns NULL after signalling.  */
void *em_user_ptr (emacs_env *env, emacs_value v, emacs_finalizer fin,
                   const char *predicate);

emacs_value em_list (emacs_env *env, emacs_value *items, ptrdiff_t n);
emacs_value em_cons (emacs_env *env, emacs_value car, emacs_value cdr);

/* Bind NAME to a module function with DOC (ending in "(fn ARGS)").  */
void em_defun (emacs_env *env, const char *name, ptrdiff_t min,
               ptrdiff_t max,
               emacs_value (*fn) (emacs_env *, ptrdiff_t, emacs_value *,
                                  void *) EMACS_NOEXCEPT,
               const char *doc);

/* Primitives defined with EM_DEFUN, registered when the module is
   loaded (before emacs_module_init runs).  */
struct em_defn
{
  const char *name;
  ptrdiff_t min, max;
  emacs_value (*fn) (emacs_env *, ptrdiff_t, emacs_value *, void *)
    EMACS_NOEXCEPT;
  const char *doc;
  struct em_defn *next;
};
void em_register (struct em_defn *d);
/* Bind every registered primitive.  */
void em_defun_all (emacs_env *env);

/* Define the primitive C_NAME, bound to LISP_NAME, taking MIN to MAX
   arguments, with its docstring DOC (ending in "\n\n(fn ARGS)") right
   above its body (after libegit2's EGIT_DOC and emacs-zmq's EZMQ_DOC),
   and named parameters PARAMS: (emacs_env *env, emacs_value _a, ...),
   one emacs_value for each of the MAX arguments, an optional one nil
   when not given.  The body follows the macro:

     EM_DEFUN (Ffoo, "ossl--foo", 1, 2,
               (emacs_env *env, emacs_value _conn, emacs_value _flag),
               "Do foo on CONN.\n\n(fn CONN &optional FLAG)")
     {
       ...
     }

   MAX is a literal from 0 to 7.  */
#define EM_DEFUN(c_name, lisp_name, min, max, params, doc)               \
  static emacs_value c_name params;                                     \
  static emacs_value                                                    \
  c_name##_entry (emacs_env *env, ptrdiff_t nargs, emacs_value *args,   \
                  void *data) EMACS_NOEXCEPT                            \
  {                                                                     \
    emacs_value a[(max) + 1];                                           \
    (void) data;                                                        \
    (void) a;                                                           \
    for (ptrdiff_t i = 0; i < (max); i++)                               \
      a[i] = i < nargs ? args[i] : em_nil;                              \
    return c_name (env EM_ARGS_##max);                                  \
  }                                                                     \
  static struct em_defn c_name##_defn                                   \
    = { lisp_name, min, max, c_name##_entry, doc, NULL };               \
  __attribute__ ((constructor)) static void                             \
  c_name##_register (void)                                              \
  {                                                                     \
    em_register (&c_name##_defn);                                       \
  }                                                                     \
  static emacs_value c_name params

#define EM_ARGS_0
#define EM_ARGS_1 , a[0]
#define EM_ARGS_2 , a[0], a[1]
#define EM_ARGS_3 , a[0], a[1], a[2]
#define EM_ARGS_4 , a[0], a[1], a[2], a[3]
#define EM_ARGS_5 , a[0], a[1], a[2], a[3], a[4]
#define EM_ARGS_6 , a[0], a[1], a[2], a[3], a[4], a[5]
#define EM_ARGS_7 , a[0], a[1], a[2], a[3], a[4], a[5], a[6]

#endif /* OSSL_EM_H */
