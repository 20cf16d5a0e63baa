/* config: see config.h. This file knows NetraDrive's settings: their
 * defaults and the rules each value must follow. Where a value comes from
 * (flag > environment > .env > default) is config_source.c's business. */
#include "config.h"
#include "config_source.h"
#include "secret.h"
#include "util/log.h"
#include "util/strlist.h"
#include <ctype.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static bool cfg_ok_cidr(const char *s)
{
  struct cidr c;
  return cidr_parse(s, strlen(s), &c);
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

int config_check_storage(const struct config *cfg, char *err, size_t errlen)
{
  /* Several nodes share one PostgreSQL; local chunks written on one node's
   * disk are not on another's, unless DATA_DIR is one shared file system. */
  if(cfg->storage_backend == STORAGE_LOCAL && !cfg->shared_data_dir &&
     !cfg_has_prefix(cfg->database_url, "sqlite://")) {
    snprintf(err, errlen, "STORAGE_BACKEND: local storage with PostgreSQL (several nodes) needs "
             "a DATA_DIR every node shares: set SHARED_DATA_DIR=true, or use "
             "STORAGE_BACKEND=telegram");
    return -1;
  }
  return 0;
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
  if(cfg->metrics_token) {
    sodium_memzero(cfg->metrics_token, strlen(cfg->metrics_token));
    free(cfg->metrics_token);
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
  /* Checked by the commands that touch chunks (config_check_storage). */
  if(cfg_bool(c, "SHARED_DATA_DIR", false, &cfg->shared_data_dir))
    return -1;

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

/* A CIDR list variable (unset: an empty list). 0, or -1 with the error set. */
static int cfg_cidrs(struct cfg_ctx *c, const char *name, struct cidr_list *out)
{
  const char *label;
  char shown[72];
  const char *v = cfg_get(c, name, &label);
  if(!v)
    return 0;
  if(cfg_check_list(v, cfg_ok_cidr, shown))
    return cfg_fail(c, label, "must be a comma list of IP addresses or CIDR ranges (bad entry '%s')",
                    shown);
  if(cidr_list_parse(v, out) < 0)
    return cfg_fail(c, label, "at most %d entries", CIDR_MAX);
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
     cfg_int32(c, "BIN_RETENTION_DAYS", 30, 0, 36500, &cfg->bin_retention_days) ||
     cfg_int32(c, "BIN_BATCH_FOLDERS", 1000, 1, 1000000, &cfg->bin_batch_folders) ||
     cfg_int32(c, "BIN_BATCH_MS", 0, 0, 10000, &cfg->bin_batch_ms) ||
     cfg_int32(c, "BIN_BATCH_PAUSE_MS", 0, 0, 60000, &cfg->bin_batch_pause_ms) ||
     cfg_int32(c, "MAX_URL_JOBS_PER_USER", 3, 1, 1000, &cfg->max_url_jobs_per_user) ||
     cfg_int32(c, "MAX_URL_JOBS", 16, 1, 10000, &cfg->max_url_jobs) ||
     cfg_int32(c, "URL_CONNECT_TIMEOUT", 10, 1, 300, &cfg->url_connect_timeout) ||
     cfg_int32(c, "URL_IDLE_TIMEOUT", 60, 1, 3600, &cfg->url_idle_timeout) ||
     cfg_int32(c, "NODE_TIMEOUT", 30, 2, 3600, &cfg->node_timeout))
    return -1;

  v = cfg_get(c, "LOG_LEVEL", &label);
  cfg->log_level = v ? log_level_parse(v) : LOG_INFO;
  if(cfg->log_level < 0)
    return cfg_fail(c, label, "must be one of debug, info, warn, error (got '%s')",
                    cfg_show(v, shown));
  v = cfg_get(c, "LOG_FORMAT", &label);
  cfg->log_format = v ? log_format_parse(v) : LOG_TEXT;
  if(cfg->log_format < 0)
    return cfg_fail(c, label, "must be text or json (got '%s')", cfg_show(v, shown));
  /* A bearer token: visible ASCII without spaces, so it fits the header.
   * The value is a secret and is never echoed. */
  v = cfg_get(c, "METRICS_TOKEN", &label);
  if(v && *v && (strlen(v) > 256 || strpbrk(v, " \t") || !cfg_printable(v)))
    return cfg_fail(c, label, "must be 1 to 256 visible characters without spaces");
  if(v && *v && !(cfg->metrics_token = strdup(v)))
    return cfg_fail(c, "METRICS_TOKEN", "out of memory");

  if(cfg_int32(c, "THREADS", 4, 1, 256, &cfg->threads) ||
     cfg_int32(c, "LOGIN_MAX_FAILURES", 5, 1, 1000, &cfg->login_max_failures) ||
     cfg_int32(c, "LOGIN_WINDOW_SECONDS", 900, 1, 86400, &cfg->login_window_seconds) ||
     cfg_int32(c, "ACCOUNT_REQUESTS_PER_ADDRESS", 10, 1, 1000000,
               &cfg->account_requests_per_address) ||
     cfg_int32(c, "ACCOUNT_REQUESTS_WINDOW_SECONDS", 600, 1, 86400,
               &cfg->account_requests_window_seconds))
    return -1;

  /* Connection caps and the short timeout (DECISIONS "HTTP"): a few dozen
   * idle sockets from one address must not lock everyone else out. */
  if(cfg_int32(c, "MAX_CONNECTIONS", 1024, 16, 65536, &cfg->max_connections) ||
     cfg_int32(c, "MAX_CONNECTIONS_PER_IP", 64, 0, 65536, &cfg->max_connections_per_ip) ||
     cfg_int32(c, "KEEPALIVE_TIMEOUT", 15, 1, 300, &cfg->keepalive_timeout))
    return -1;
  /* WebSockets (DECISIONS "Tasks"): each is also a connection. */
  if(cfg_int32(c, "WS_MAX_CONNECTIONS", 256, 0, 65536, &cfg->ws_max_connections) ||
     cfg_int32(c, "WS_MAX_PER_USER", 8, 1, 65536, &cfg->ws_max_per_user) ||
     cfg_int32(c, "WS_PING_INTERVAL", 30, 1, 3600, &cfg->ws_ping_interval))
    return -1;
  /* The read size of an upload body (DECISIONS "HTTP"): a connection holds
   * it only while it reads a streaming body; an idle one holds none. */
  if(cfg_size(c, "CONNECTION_MEMORY", 256 * CFG_KIB, &cfg->connection_memory))
    return -1;
  if(cfg->connection_memory < 16 * CFG_KIB || cfg->connection_memory > 16 * CFG_MIB) {
    v = cfg_get(c, "CONNECTION_MEMORY", &label);
    return cfg_fail(c, label, "must be between 16K and 16M (got '%s')", cfg_show(v, shown));
  }
  /* Listing pages kept per HTTP thread (api/listing_cache.h); 0 = off. */
  if(cfg_size(c, "LISTING_CACHE", 1 * CFG_MIB, &cfg->listing_cache))
    return -1;
  if(cfg->listing_cache > 256 * CFG_MIB) {
    v = cfg_get(c, "LISTING_CACHE", &label);
    return cfg_fail(c, label, "must be at most 256M (got '%s')", cfg_show(v, shown));
  }

  /* Unset trusts no one: the TCP peer is the client, as without a proxy. */
  if(cfg_cidrs(c, "TRUSTED_PROXIES", &cfg->trusted_proxies))
    return -1;
  /* Internal ranges an operator opens to uploads from a URL (an intranet
   * mirror); everything else internal stays refused. */
  if(cfg_cidrs(c, "URL_ALLOWED_NETWORKS", &cfg->url_allowed_networks))
    return -1;
  return 0;
}

int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
  int rc = -1;
  memset(cfg, 0, sizeof(*cfg));
  struct cfg_ctx *c = cfg_open(argc, argv, err, errlen);
  if(!c)
    return -1;
  if(cfg_load_core(c, cfg) || cfg_load_service(c, cfg))
    goto out;
  rc = 0;
out:
  cfg_close(c);
  if(rc)
    config_free(cfg);
  return rc;
}
