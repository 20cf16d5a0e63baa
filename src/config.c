/* config: see config.h. Values are looked up flag > environment > .env >
 * default; the .env file is read by util/dotenv into a private table rather
 * than copied into the process environment, so loading has no global side
 * effects. */
#include "config.h"
#include "secret.h"
#include "util/dotenv.h"
#include "util/log.h"
#include "util/strlist.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CFG_DOTENV_PATH ".env"
#define CFG_KIB 1024ull
#define CFG_MIB (1024ull * 1024)

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
__attribute__((format(printf, 3, 4)))
static int cfg_fail(struct cfg_ctx *c, const char *label, const char *fmt, ...)
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
static const char *cfg_show(const char *v, char out[72])
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
static const char *cfg_get(struct cfg_ctx *c, const char *var, const char **label)
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
static int cfg_int(struct cfg_ctx *c, const char *var, long def, long min, long max, long *out)
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

static int cfg_int32(struct cfg_ctx *c, const char *var, long def, long min, long max, int *out)
{
  long v;
  if(cfg_int(c, var, def, min, max, &v))
    return -1;
  *out = (int)v;
  return 0;
}

static int cfg_size(struct cfg_ctx *c, const char *var, uint64_t def, uint64_t *out)
{
  const char *label;
  const char *v = cfg_get(c, var, &label);
  if(!v) {
    *out = def;
    return 0;
  }
  if(config_parse_size(v, out)) {
    char shown[72];
    return cfg_fail(c, label,
                    "must be a size in bytes with an optional K, M or G suffix (got '%s')",
                    cfg_show(v, shown));
  }
  return 0;
}

static int cfg_bool(struct cfg_ctx *c, const char *var, bool def, bool *out)
{
  const char *label;
  const char *v = cfg_get(c, var, &label);
  if(!v) {
    *out = def;
    return 0;
  }
  if(config_parse_bool(v, out)) {
    char shown[72];
    return cfg_fail(c, label, "must be true or false (got '%s')", cfg_show(v, shown));
  }
  return 0;
}

/* Copies the value (or `def`, which may be NULL) to the heap. */
static int cfg_str(struct cfg_ctx *c, const char *var, const char *def, char **out)
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

/* ---- checks on string values ------------------------------------------- */

static bool cfg_has_prefix(const char *s, const char *prefix)
{
  /* Case-sensitive, as the modules that consume these URLs compare them. */
  return !strncmp(s, prefix, strlen(prefix));
}

static bool cfg_is_http_url(const char *s)
{
  const char *rest = cfg_has_prefix(s, "http://")    ? s + 7
                     : cfg_has_prefix(s, "https://") ? s + 8
                                                     : NULL;
  if(!rest || !*rest || *rest == '/')
    return false;
  for(const char *p = s; *p; p++)
    if((unsigned char)*p <= 0x20 || *p == 0x7f)
      return false;
  return true;
}

static void cfg_strip_slashes(char *s)
{
  size_t n = strlen(s);
  while(n && s[n - 1] == '/')
    s[--n] = 0;
}

static bool cfg_printable(const char *s)
{
  for(; *s; s++)
    if((unsigned char)*s < 0x20 || *s == 0x7f)
      return false;
  return true;
}

/* Counts the commas in [p, end). */
static int cfg_commas(const char *p, const char *end)
{
  int n = 0;
  for(; p < end; p++)
    n += *p == ',';
  return n;
}

/* Checks each trimmed item of a comma list with `ok`. strlist skips empty
 * items, but here one is a mistake ("a,,b", "a,"), so the text around the
 * items must hold exactly one comma between each two and none outside.
 * Returns NULL or the first bad item (copied into `bad`). */
static const char *cfg_check_list(const char *list, bool (*ok)(const char *item),
                                  char bad[72])
{
  struct strlist_iter it;
  char item[512];
  const char *p, *gap = list;
  size_t n;
  int seps = 0; /* commas expected before the next item */
  strlist_begin(&it, list);
  while(strlist_next(&it, &p, &n)) {
    if(cfg_commas(gap, p) != seps)
      return cfg_show("", bad); /* an empty item came first */
    bool too_long = n >= sizeof(item); /* refused whole, never checked in part */
    if(too_long)
      n = sizeof(item) - 1;
    memcpy(item, p, n);
    item[n] = 0;
    if(too_long || !ok(item))
      return cfg_show(item, bad);
    gap = p + n;
    seps = 1;
  }
  if(!seps || cfg_commas(gap, gap + strlen(gap)))
    return cfg_show("", bad);
  return NULL;
}

static bool cfg_ok_bot_token(const char *t)
{
  /* Tokens go into URL paths ("/bot<token>/method"): no separators or spaces. */
  for(; *t; t++)
    if(!(isalnum((unsigned char)*t) || strchr(":_-.", *t)))
      return false;
  return true;
}

static bool cfg_ok_chat_id(const char *s)
{
  if(*s == '@') {
    size_t n = strlen(s + 1);
    if(n < 1 || n > 64)
      return false;
    for(s++; *s; s++)
      if(!(isalnum((unsigned char)*s) || *s == '_'))
        return false;
    return true;
  }
  if(*s == '-')
    s++;
  size_t n = strlen(s);
  if(n < 1 || n > 19)
    return false;
  for(; *s; s++)
    if(!isdigit((unsigned char)*s))
      return false;
  return true;
}

static bool cfg_ok_origin(const char *s)
{
  return !strcmp(s, "*") || cfg_is_http_url(s);
}

/* Rewrites CORS_ORIGINS as "a,b" without blanks or trailing slashes, the form
 * browsers send in Origin, so the HTTP layer can compare items directly. The
 * list is rewritten in place: an item is never written ahead of where it was
 * read. */
static void cfg_normalize_origins(char *list)
{
  struct strlist_iter it;
  const char *item;
  size_t n;
  char *o = list;
  strlist_begin(&it, list);
  while(strlist_next(&it, &item, &n)) {
    while(n && item[n - 1] == '/')
      n--;
    if(o != list)
      *o++ = ',';
    memmove(o, item, n);
    o += n;
  }
  *o = 0;
}

/* ---- public --------------------------------------------------------------- */

int config_parse_size(const char *s, uint64_t *out)
{
  if(!s || !isdigit((unsigned char)*s))
    return -1; /* also refuses "", "-1", "+1" and leading blanks */
  uint64_t v = 0;
  for(; isdigit((unsigned char)*s); s++) {
    unsigned d = (unsigned)(*s - '0');
    if(v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  uint64_t mult = 1;
  switch(*s) {
  case 'k': case 'K': mult = CFG_KIB; s++; break;
  case 'm': case 'M': mult = CFG_MIB; s++; break;
  case 'g': case 'G': mult = CFG_MIB * CFG_KIB; s++; break;
  case 't': case 'T': mult = CFG_MIB * CFG_MIB; s++; break;
  default: break;
  }
  /* Accept "8M", "8MB", "8MiB" and "512B" alike. */
  if(mult > 1 && (*s == 'i' || *s == 'I') && (s[1] == 'b' || s[1] == 'B'))
    s += 2;
  else if(*s == 'b' || *s == 'B')
    s++;
  if(*s)
    return -1;
  if(v > UINT64_MAX / mult)
    return -1;
  *out = v * mult;
  return 0;
}

int config_parse_bool(const char *s, bool *out)
{
  static const char *const yes[] = {"true", "1", "yes", "on"};
  static const char *const no[] = {"false", "0", "no", "off"};
  if(!s)
    return -1;
  for(size_t i = 0; i < 4; i++) {
    if(!strcasecmp(s, yes[i])) {
      *out = true;
      return 0;
    }
    if(!strcasecmp(s, no[i])) {
      *out = false;
      return 0;
    }
  }
  return -1;
}

void config_free(struct config *cfg)
{
  free(cfg->host);
  free(cfg->data_dir);
  free(cfg->database_url);
  if(cfg->secret_key) {
    sodium_memzero(cfg->secret_key, strlen(cfg->secret_key));
    free(cfg->secret_key);
  }
  free(cfg->telegram_bot_token);
  free(cfg->telegram_storage_chat_id);
  free(cfg->telegram_api_url);
  free(cfg->cors_origins);
  free(cfg->public_url);
  free(cfg->smtp_url);
  free(cfg->smtp_from);
  memset(cfg, 0, sizeof(*cfg));
}

/* The server, storage and security settings. */
static int cfg_load_core(struct cfg_ctx *c, struct config *cfg)
{
  const char *label, *v;
  char shown[72];
  long l;

  if(cfg_str(c, "HOST", "127.0.0.1", &cfg->host))
    return -1;
  bool host_ok = strlen(cfg->host) <= 253;
  for(const char *p = cfg->host; *p; p++)
    if((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '/')
      host_ok = false;
  if(!host_ok) {
    cfg_get(c, "HOST", &label);
    return cfg_fail(c, label, "must be a host name or IP address (got '%s')",
                    cfg_show(cfg->host, shown));
  }
  if(cfg_int(c, "PORT", 8000, 1, 65535, &l))
    return -1;
  cfg->port = (int)l;

  if(cfg_str(c, "DATA_DIR", "./data", &cfg->data_dir))
    return -1;
  size_t dlen = strlen(cfg->data_dir);
  while(dlen > 1 && cfg->data_dir[dlen - 1] == '/') /* "data/" -> "data", "/" stays */
    cfg->data_dir[--dlen] = 0;
  if(dlen > PATH_MAX - 64) {
    cfg_get(c, "DATA_DIR", &label);
    return cfg_fail(c, label, "path is too long");
  }

  v = cfg_get(c, "DATABASE_URL", &label);
  if(v) {
    bool ok = (cfg_has_prefix(v, "sqlite://") && v[9]) || cfg_has_prefix(v, "postgresql://") ||
              cfg_has_prefix(v, "postgres://");
    if(!ok || !cfg_printable(v))
      return cfg_fail(c, label, "must start with sqlite:// or postgresql:// (got '%s')",
                      cfg_show(v, shown));
    cfg->database_url = strdup(v);
  }
  else if(asprintf(&cfg->database_url, "sqlite://%s/netradrive.db", cfg->data_dir) < 0)
    cfg->database_url = NULL;
  if(!cfg->database_url)
    return cfg_fail(c, "DATABASE_URL", "out of memory");

  v = cfg_get(c, "SECRET_KEY", &label);
  if(v && strlen(v) < SECRET_MIN_LEN)
    return cfg_fail(c, label, "must be at least %d bytes long", SECRET_MIN_LEN);
  if(cfg_str(c, "SECRET_KEY", NULL, &cfg->secret_key))
    return -1;

  if(cfg_int(c, "ACCESS_TOKEN_EXPIRE_MINUTES", 30, 1, 525600, &cfg->access_token_expire_minutes) ||
     cfg_int(c, "REFRESH_TOKEN_EXPIRE_DAYS", 7, 1, 3650, &cfg->refresh_token_expire_days))
    return -1;

  v = cfg_get(c, "STORAGE_BACKEND", &label);
  if(!v || !strcasecmp(v, "local"))
    cfg->storage_backend = STORAGE_LOCAL;
  else if(!strcasecmp(v, "telegram"))
    cfg->storage_backend = STORAGE_TELEGRAM;
  else
    return cfg_fail(c, label, "must be 'local' or 'telegram' (got '%s')", cfg_show(v, shown));
  bool tg = cfg->storage_backend == STORAGE_TELEGRAM;

  if(cfg_str(c, "TELEGRAM_BOT_TOKEN", NULL, &cfg->telegram_bot_token) ||
     cfg_str(c, "TELEGRAM_STORAGE_CHAT_ID", NULL, &cfg->telegram_storage_chat_id) ||
     cfg_str(c, "TELEGRAM_API_URL", "https://api.telegram.org", &cfg->telegram_api_url) ||
     cfg_bool(c, "TELEGRAM_LOCAL_MODE", false, &cfg->telegram_local_mode) ||
     cfg_int32(c, "TELEGRAM_PARALLEL_UPLOADS", 4, 1, 64, &cfg->telegram_parallel) ||
     cfg_bool(c, "TELEGRAM_PACING", true, &cfg->telegram_pacing))
    return -1;
  /* Telegram values are only checked when used, so a local setup may keep
   * placeholders from an example .env. */
  if(tg) {
    if(!cfg->telegram_bot_token)
      return cfg_fail(c, "TELEGRAM_BOT_TOKEN", "required when STORAGE_BACKEND=telegram");
    if(!cfg->telegram_storage_chat_id)
      return cfg_fail(c, "TELEGRAM_STORAGE_CHAT_ID", "required when STORAGE_BACKEND=telegram");
    if(cfg_check_list(cfg->telegram_bot_token, cfg_ok_bot_token, shown))
      return cfg_fail(c, "TELEGRAM_BOT_TOKEN",
                      "must be a comma list of bot tokens (bad entry '%s')", shown);
    if(cfg_check_list(cfg->telegram_storage_chat_id, cfg_ok_chat_id, shown))
      return cfg_fail(c, "TELEGRAM_STORAGE_CHAT_ID",
                      "must be a comma list of numeric chat ids or @channel names (bad entry '%s')",
                      shown);
    if(!cfg_is_http_url(cfg->telegram_api_url)) {
      cfg_get(c, "TELEGRAM_API_URL", &label);
      return cfg_fail(c, label, "must be an http:// or https:// URL (got '%s')",
                      cfg_show(cfg->telegram_api_url, shown));
    }
  }
  cfg_strip_slashes(cfg->telegram_api_url);

  /* The hosted Bot API serves downloads up to 20 MiB, so chunks must fit; a
   * local Bot API server (and local disk) goes up to Telegram's 2000 MB. */
  uint64_t max_chunk = (tg && !cfg->telegram_local_mode) ? 20 * CFG_MIB : 2000 * CFG_MIB;
  if(cfg_size(c, "CHUNK_SIZE", tg ? 20 * CFG_MIB - 64 * CFG_KIB : 8 * CFG_MIB, &cfg->chunk_size))
    return -1;
  if(cfg->chunk_size < 64 * CFG_KIB || cfg->chunk_size > max_chunk) {
    v = cfg_get(c, "CHUNK_SIZE", &label);
    return cfg_fail(c, label, "must be between 64K and %s%s (got '%s')",
                    max_chunk == 20 * CFG_MIB ? "20M" : "2000M",
                    max_chunk == 20 * CFG_MIB ? " with the hosted Telegram Bot API" : "",
                    cfg_show(v, shown));
  }
  if(cfg_size(c, "MAX_UPLOAD_SIZE", 0, &cfg->max_upload_size) ||
     cfg_size(c, "CACHE_SIZE", 1024 * CFG_MIB, &cfg->cache_size))
    return -1;

  v = cfg_get(c, "DEDUP", &label);
  if(!v || !strcasecmp(v, "link"))
    cfg->dedup = DEDUP_LINK;
  else if(!strcasecmp(v, "reject"))
    cfg->dedup = DEDUP_REJECT;
  else
    return cfg_fail(c, label, "must be 'link' or 'reject' (got '%s')", cfg_show(v, shown));
  return 0;
}

/* The web-facing, mail and housekeeping settings. */
static int cfg_load_service(struct cfg_ctx *c, struct config *cfg)
{
  const char *label, *v;
  char shown[72];

  if(cfg_str(c, "CORS_ORIGINS", "", &cfg->cors_origins))
    return -1;
  if(*cfg->cors_origins) {
    if(cfg_check_list(cfg->cors_origins, cfg_ok_origin, shown)) {
      cfg_get(c, "CORS_ORIGINS", &label);
      return cfg_fail(c, label, "must be '*' or a comma list of http(s) origins (bad entry '%s')",
                      shown);
    }
    cfg_normalize_origins(cfg->cors_origins);
  }

  v = cfg_get(c, "PUBLIC_URL", &label);
  if(v) {
    if(!cfg_is_http_url(v))
      return cfg_fail(c, label, "must be an http:// or https:// URL (got '%s')",
                      cfg_show(v, shown));
    cfg->public_url = strdup(v);
  }
  else {
    /* An IPv6 literal needs brackets in a URL. */
    bool v6 = strchr(cfg->host, ':') != NULL;
    if(asprintf(&cfg->public_url, "http://%s%s%s:%d", v6 ? "[" : "", cfg->host, v6 ? "]" : "",
                cfg->port) < 0)
      cfg->public_url = NULL;
  }
  if(!cfg->public_url)
    return cfg_fail(c, "PUBLIC_URL", "out of memory");
  cfg_strip_slashes(cfg->public_url);

  v = cfg_get(c, "SMTP_URL", &label);
  if(v && (!(cfg_has_prefix(v, "smtp://") || cfg_has_prefix(v, "smtps://")) || !cfg_printable(v)))
    return cfg_fail(c, label, "must start with smtp:// or smtps://");
  if(cfg_str(c, "SMTP_URL", NULL, &cfg->smtp_url) ||
     cfg_str(c, "SMTP_FROM", "netradrive@localhost", &cfg->smtp_from))
    return -1;
  /* SMTP_FROM lands in a mail header: one printable line with an address. */
  if(!strchr(cfg->smtp_from, '@') || !cfg_printable(cfg->smtp_from) ||
     strlen(cfg->smtp_from) > 320) {
    cfg_get(c, "SMTP_FROM", &label);
    return cfg_fail(c, label, "must be an email address (got '%s')",
                    cfg_show(cfg->smtp_from, shown));
  }

  if(cfg_bool(c, "REQUIRE_EMAIL_VERIFICATION", cfg->smtp_url != NULL,
              &cfg->require_email_verification) ||
     cfg_bool(c, "ALLOW_PRIVATE_URLS", false, &cfg->allow_private_urls) ||
     cfg_int32(c, "BIN_RETENTION_DAYS", 30, 0, 36500, &cfg->bin_retention_days))
    return -1;

  v = cfg_get(c, "LOG_LEVEL", &label);
  cfg->log_level = v ? log_level_parse(v) : LOG_INFO;
  if(cfg->log_level < 0)
    return cfg_fail(c, label, "must be one of debug, info, warn, error (got '%s')",
                    cfg_show(v, shown));

  if(cfg_int32(c, "THREADS", 4, 1, 256, &cfg->threads) ||
     cfg_int32(c, "LOGIN_MAX_FAILURES", 5, 1, 1000, &cfg->login_max_failures) ||
     cfg_int32(c, "LOGIN_WINDOW_SECONDS", 900, 1, 86400, &cfg->login_window_seconds))
    return -1;
  return 0;
}

int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
  int rc = -1;
  struct cfg_ctx *c = calloc(1, sizeof(*c));
  memset(cfg, 0, sizeof(*cfg));
  if(err && errlen)
    err[0] = 0;
  if(!c) {
    if(err && errlen)
      snprintf(err, errlen, "config: out of memory");
    return -1;
  }
  c->err = err;
  c->errlen = errlen;
  if(cfg_parse_flags(c, argc, argv) || dotenv_load(&c->dotenv, CFG_DOTENV_PATH, err, errlen) ||
     cfg_load_core(c, cfg) || cfg_load_service(c, cfg))
    goto out;
  rc = 0;
out:
  dotenv_free(&c->dotenv);
  free(c);
  if(rc)
    config_free(cfg);
  return rc;
}
