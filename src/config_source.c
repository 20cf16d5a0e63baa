/* config_source: see config_source.h. The .env file is read by util/dotenv
 * into a private table rather than copied into the process environment, so
 * loading has no global side effects. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/parse.h"
#include "config_source.h"
#include "util/dotenv.h"

#define CFG_DOTENV_PATH ".env"

/* Command-line flags and the environment variable each one stands for. */
static const struct {
  const char *flag;
  const char *var;
} cfg_flags[] = {
  {"--host", "HOST"},
  {"--port", "PORT"},
  {"--data-dir", "DATA_DIR"},
  {"--database-url", "DATABASE_URL"},
  {"--log-level", "LOG_LEVEL"},
  {"--threads", "THREADS"},
};
#define CFG_NFLAGS (sizeof(cfg_flags) / sizeof(cfg_flags[0]))

struct cfg_ctx {
  const char *flag_val[CFG_NFLAGS];
  struct dotenv dotenv;
  char *err;
  size_t errlen;
};

/* Writes "LABEL: message" to the error buffer; returns -1 for `return cfg_fail(...)`. */
int cfg_fail(struct cfg_ctx *c, const char *label, const char *fmt, ...)
{
  if(!c->err || !c->errlen)
    return -1;
  int n = snprintf(c->err, c->errlen, "%s: ", label);
  if(n >= 0 && (size_t)n < c->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Copies a user value for an error message: bounded, one line, printable. */
const char *cfg_show(const char *v, char out[72])
{
  size_t i = 0;
  for(; v[i] && i < 64; i++)
    out[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
  if(v[i]) {
    memcpy(out + i, "...", 3);
    i += 3;
  }
  out[i] = 0;
  return out;
}

/* ---- flags --------------------------------------------------------------- */

/* `argv` starts after the subcommand, so every word must be a known flag or
 * a flag's value: a stray word is an error rather than silently ignored. */
static int cfg_parse_flags(struct cfg_ctx *c, int argc, char **argv)
{
  for(int i = 0; i < argc && argv[i]; i++) {
    const char *arg = argv[i];
    const char *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    size_t f = 0;
    while(f < CFG_NFLAGS &&
          !(strlen(cfg_flags[f].flag) == nlen && !strncmp(cfg_flags[f].flag, arg, nlen)))
      f++;
    if(f == CFG_NFLAGS) {
      char shown[72];
      return cfg_fail(c, cfg_show(arg, shown),
                      arg[0] == '-' ? "unknown option" : "unexpected argument");
    }
    const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if(!val || !*val)
      return cfg_fail(c, cfg_flags[f].flag, "missing value");
    c->flag_val[f] = val;
  }
  return 0;
}

/* ---- lookups ------------------------------------------------------------- */

/* Returns the raw value of `var` or NULL when unset or empty; `*label` names
 * where it came from, for error messages. A variable present in the real
 * environment, even empty, hides the .env entry. */
const char *cfg_get(struct cfg_ctx *c, const char *var, const char **label)
{
  *label = var;
  for(size_t f = 0; f < CFG_NFLAGS; f++) {
    if(c->flag_val[f] && !strcmp(cfg_flags[f].var, var)) {
      *label = cfg_flags[f].flag;
      return c->flag_val[f];
    }
  }
  const char *v = getenv(var);
  if(v)
    return *v ? v : NULL;
  v = dotenv_get(&c->dotenv, var);
  return v && *v ? v : NULL;
}

/* Strict decimal integer in [min, max]; `def` when unset. */
int cfg_int(struct cfg_ctx *c, const char *var, long def, long min, long max, long *out)
{
  const char *label;
  const char *v = cfg_get(c, var, &label);
  if(!v) {
    *out = def;
    return 0;
  }
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  bool digits = (v[0] >= '0' && v[0] <= '9') || (v[0] == '-' && v[1] >= '0' && v[1] <= '9');
  if(!digits || *end || errno || n < min || n > max) {
    char shown[72];
    return cfg_fail(c, label, "must be an integer between %ld and %ld (got '%s')", min, max,
                    cfg_show(v, shown));
  }
  *out = n;
  return 0;
}

int cfg_int32(struct cfg_ctx *c, const char *var, long def, long min, long max, int *out)
{
  long v;
  if(cfg_int(c, var, def, min, max, &v))
    return -1;
  *out = (int)v;
  return 0;
}

int cfg_size(struct cfg_ctx *c, const char *var, uint64_t def, uint64_t *out)
{
  const char *label;
  const char *v = cfg_get(c, var, &label);
  if(!v) {
    *out = def;
    return 0;
  }
  if(parse_size(v, out)) {
    char shown[72];
    return cfg_fail(c, label,
                    "must be a size in bytes with an optional K, M or G suffix (got '%s')",
                    cfg_show(v, shown));
  }
  return 0;
}

int cfg_bool(struct cfg_ctx *c, const char *var, bool def, bool *out)
{
  const char *label;
  const char *v = cfg_get(c, var, &label);
  if(!v) {
    *out = def;
    return 0;
  }
  if(parse_bool(v, out)) {
    char shown[72];
    return cfg_fail(c, label, "must be true or false (got '%s')", cfg_show(v, shown));
  }
  return 0;
}

/* Copies the value (or `def`, which may be NULL) to the heap. */
int cfg_str(struct cfg_ctx *c, const char *var, const char *def, char **out)
{
  const char *label;
  const char *v = cfg_get(c, var, &label);
  if(!v)
    v = def;
  *out = NULL;
  if(!v)
    return 0;
  *out = strdup(v);
  return *out ? 0 : cfg_fail(c, label, "out of memory");
}

struct cfg_ctx *cfg_open(int argc, char **argv, char *err, size_t errlen)
{
  struct cfg_ctx *c = calloc(1, sizeof(*c));
  if(err && errlen)
    err[0] = 0;
  if(!c) {
    if(err && errlen)
      snprintf(err, errlen, "config: out of memory");
    return NULL;
  }
  c->err = err;
  c->errlen = err ? errlen : 0;
  if(cfg_parse_flags(c, argc, argv) || dotenv_load(&c->dotenv, CFG_DOTENV_PATH, err, errlen)) {
    cfg_close(c);
    return NULL;
  }
  return c;
}

void cfg_close(struct cfg_ctx *c)
{
  if(!c)
    return;
  dotenv_free(&c->dotenv);
  free(c);
}
