/* em.c -- emacs_env helpers.  */

#include <stdlib.h>
#include <string.h>
#include <limits.h>

#include "em.h"
#include "relay.h"

emacs_value em_nil, em_t;

bool
em_init (emacs_env *env)
{
  em_nil = env->make_global_ref (env, env->intern (env, "nil"));
  em_t = env->make_global_ref (env, env->intern (env, "t"));
  return env->non_local_exit_check (env) == emacs_funcall_exit_return;
}

emacs_value
em_intern (emacs_env *env, const char *name)
{
  return env->intern (env, name);
}

bool
em_nilp (emacs_env *env, emacs_value v)
{
  return !env->is_not_nil (env, v);
}

emacs_value
em_str (emacs_env *env, const char *s)
{
  return env->make_string (env, s, (ptrdiff_t) strlen (s));
}

emacs_value
em_str_or_nil (emacs_env *env, const char *s)
{
  return s ? em_str (env, s) : em_nil;
}

emacs_value
em_nonempty_str_or_nil (emacs_env *env, const char *s)
{
  return s && *s ? em_str (env, s) : em_nil;
}

emacs_value
em_unibyte (emacs_env *env, const char *data, size_t len)
{
  if (len > PTRDIFF_MAX)
    {
      em_signal (env, "ossl-error", "string too long");
      return NULL;
    }
  /* The argument is declared nonnull: an empty result may come from
     a buffer never allocated.  */
  return env->make_unibyte_string (env, data ? data : "", (ptrdiff_t) len);
}

emacs_value
em_list (emacs_env *env, emacs_value *items, ptrdiff_t n)
{
  return env->funcall (env, env->intern (env, "list"), n, items);
}

emacs_value
em_cons (emacs_env *env, emacs_value car, emacs_value cdr)
{
  emacs_value args[2] = { car, cdr };
  return env->funcall (env, env->intern (env, "cons"), 2, args);
}

void
em_signal (emacs_env *env, const char *symbol, const char *msg)
{
  emacs_value data = em_str (env, msg);
  emacs_value list = em_list (env, &data, 1);
  if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
    return;
  env->non_local_exit_signal (env, env->intern (env, symbol), list);
}

emacs_value
em_status (emacs_env *env, int rc, const char *symbol, const char *msg)
{
  if (rc == 0)
    return em_t;
  em_signal (env, symbol, msg);
  return NULL;
}

void
em_wrong_type (emacs_env *env, const char *predicate, emacs_value v)
{
  emacs_value items[2] = { env->intern (env, predicate), v };
  emacs_value list = em_list (env, items, 2);
  if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
    return;
  env->non_local_exit_signal (env, env->intern (env, "wrong-type-argument"),
                              list);
}

char *
em_string (emacs_env *env, emacs_value v, ptrdiff_t *len)
{
  ptrdiff_t size = 0;
  char *buf;

  if (!env->eq (env, env->type_of (env, v), env->intern (env, "string")))
    {
      em_wrong_type (env, "stringp", v);
      return NULL;
    }
  if (!env->copy_string_contents (env, v, NULL, &size))
    return NULL;
  buf = malloc (size);
  if (!buf)
    {
      em_signal (env, "ossl-error", "out of memory");
      return NULL;
    }
  if (!env->copy_string_contents (env, v, buf, &size))
    {
      free (buf);
      return NULL;
    }
  if (len)
    *len = size - 1;
  return buf;
}

char *
em_string_or_nil (emacs_env *env, emacs_value v, bool *failed)
{
  char *s;
  *failed = false;
  if (em_nilp (env, v))
    return NULL;
  s = em_string (env, v, NULL);
  *failed = s == NULL;
  return s;
}

/* memset through a volatile pointer: the compiler cannot tell that
   it only writes memory about to be freed, and keeps the call (what
   OPENSSL_cleanse does, without OpenSSL in this file).  */
static void *(*volatile wipe) (void *, int, size_t) = memset;

void
em_free_secret (char *s, ptrdiff_t len)
{
  if (!s)
    return;
  wipe (s, 0, len >= 0 ? (size_t) len : strlen (s));
  free (s);
}

bool
em_password (emacs_env *env, emacs_value v, struct em_password *pw)
{
  pw->env = env;
  pw->fn = NULL;
  pw->str = NULL;
  pw->len = 0;
  if (em_nilp (env, v))
    return true;
  if (env->eq (env, env->type_of (env, v), env->intern (env, "string")))
    return (pw->str = em_string (env, v, &pw->len)) != NULL;
  {
    emacs_value fp = env->funcall (env, env->intern (env, "functionp"), 1, &v);
    if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
      return false;
    if (em_nilp (env, fp))
      {
        em_wrong_type (env, "stringp", v);
        return false;
      }
  }
  pw->fn = v;
  return true;
}

bool
em_password_p (const struct em_password *pw)
{
  return pw->str || pw->fn;
}

int
em_password_cb (char *buf, int size, int rwflag, void *u)
{
  struct em_password *src = u;
  emacs_env *env = src->env;
  char *pw = src->str;
  ptrdiff_t len = src->len;
  int n;
  (void) rwflag;

  if (!pw && src->fn)
    {
      /* The function may ask the user and take long: the relay
         thread must not wait for it.  It runs while OpenSSL decodes a
         key into new objects of its own, which no other thread sees.  */
      int n = ossl_lock_release ();
      emacs_value v = env->funcall (env, src->fn, 0, NULL);
      ossl_lock_resume (n);
      if (env->non_local_exit_check (env) != emacs_funcall_exit_return
          || em_nilp (env, v) || !(pw = em_string (env, v, &len)))
        return -1;
    }
  if (!pw)
    return -1;
  n = len <= size ? (int) len : -1;
  if (n >= 0)
    memcpy (buf, pw, n);
  if (pw != src->str)
    em_free_secret (pw, len);
  return n;
}

void
em_password_free (struct em_password *pw)
{
  em_free_secret (pw->str, pw->len);
  pw->str = NULL;
}

bool
em_int (emacs_env *env, emacs_value v, long min, long max, long *out)
{
  intmax_t i;
  if (!env->eq (env, env->type_of (env, v), env->intern (env, "integer")))
    {
      em_wrong_type (env, "integerp", v);
      return false;
    }
  i = env->extract_integer (env, v);
  /* A bignum past intmax_t is out of any range we take, not an
     overflow-error.  */
  if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
    env->non_local_exit_clear (env);
  else if (i >= min && i <= max)
    {
      *out = (long) i;
      return true;
    }
  {
    emacs_value items[3] = { v, env->make_integer (env, min),
                             env->make_integer (env, max) };
    env->non_local_exit_signal (env, env->intern (env, "args-out-of-range"),
                                em_list (env, items, 3));
    return false;
  }
}

bool
em_user_ptr_p (emacs_env *env, emacs_value v, emacs_finalizer fin)
{
  return env->eq (env, env->type_of (env, v), env->intern (env, "user-ptr"))
    && env->get_user_finalizer (env, v) == fin;
}

void *
em_user_ptr (emacs_env *env, emacs_value v, emacs_finalizer fin,
             const char *predicate)
{
  void *p;
  if (!em_user_ptr_p (env, v, fin))
    {
      env->non_local_exit_clear (env);
      em_wrong_type (env, predicate, v);
      return NULL;
    }
  p = env->get_user_ptr (env, v);
  if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
    return NULL;
  return p;
}

/* Every module function runs with the module lock held once the relay
   thread (relay.c) runs, so that it never works on a connection
   meanwhile.  Before, there is no other thread to keep out.  */
struct em_fn
{
  emacs_value (*fn) (emacs_env *, ptrdiff_t, emacs_value *, void *)
    EMACS_NOEXCEPT;
};

static emacs_value
em_locked (emacs_env *env, ptrdiff_t nargs, emacs_value *args, void *data)
  EMACS_NOEXCEPT
{
  struct em_fn *f = data;
  emacs_value v;
  int locked = ossl_relay_running ();
  if (locked)
    ossl_lock ();
  v = f->fn (env, nargs, args, NULL);
  if (locked)
    ossl_unlock ();
  return v;
}

void
em_defun (emacs_env *env, const char *name, ptrdiff_t min, ptrdiff_t max,
          emacs_value (*fn) (emacs_env *, ptrdiff_t, emacs_value *,
                             void *) EMACS_NOEXCEPT,
          const char *doc)
{
  /* Lives as long as the function: for ever.  */
  struct em_fn *f = malloc (sizeof *f);
  emacs_value func, args[2];
  if (!f)
    {
      em_signal (env, "error", "out of memory");
      return;
    }
  f->fn = fn;
  func = env->make_function (env, min, max, em_locked, doc, f);
  args[0] = env->intern (env, name);
  args[1] = func;
  env->funcall (env, env->intern (env, "defalias"), 2, args);
}

static struct em_defn *em_defns;

void
em_register (struct em_defn *d)
{
  d->next = em_defns;
  em_defns = d;
}

void
em_defun_all (emacs_env *env)
{
  struct em_defn *d;
  for (d = em_defns; d; d = d->next)
    {
      em_defun (env, d->name, d->min, d->max, d->fn, d->doc);
      if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
        return;
    }
}
