/* ft_config: flags and runtime settings. */
#include "ft_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ft_num.h"

static const char usage[] =
  "usage: fake-telegram --port N --dir DIR [options]\n"
  "  --local                 local mode (like telegram-bot-api --local)\n"
  "  --deny-chat ID          answer 403 for this chat (repeatable)\n"
  "  --deny-token TOKEN      answer 401 for this token (repeatable)\n"
  "  --html-413              answer oversized uploads with nginx's HTML page\n"
  "  --upload-limit BYTES    largest document (50000000; 2000000000 with --local)\n"
  "  --download-limit BYTES  largest file getFile serves in cloud mode (20971520)\n"
  "  --pace                  per-chat rate limits answering 429\n"
  "  --pace-per-sec F        token refill per second (1)\n"
  "  --pace-burst N          bucket size (3)\n"
  "  --pace-per-min N        messages per chat per minute (20)\n"
  "  --bandwidth BYTES       per-connection rate cap each way (0 = none)\n"
  "  --latency MS            delay added to every Bot API answer\n"
  "  --fail-rate F           share of calls answered 500/502\n"
  "  --drop-rate F           share of calls closed without an answer\n"
  "  --truncate-rate F       share of downloads cut short\n"
  "  --slow-rate F           share of calls answered after --slow-ms (2000)\n"
  "  --seed N                seed for the fault dice\n"
  "  --quiet                 no start-up line\n";

static int bad(const char *flag, const char *val)
{
  fprintf(stderr, "fake-telegram: invalid value for %s: '%s'\n%s", flag, val ? val : "", usage);
  return -1;
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past the value. */
static int take(int argc, char **argv, int *i, const char *name, const char **val)
{
  const char *a = argv[*i];
  size_t n = strlen(name);

  if(strncmp(a, name, n))
    return 0;
  if(a[n] == '=') {
    *val = a + n + 1;
    return 1;
  }
  if(a[n])
    return 0;
  if(*i + 1 >= argc) {
    *val = NULL;
    return 1;
  }
  *val = argv[++*i];
  return 1;
}

static int parse_rate(const char *s, double *out)
{
  return ft_num_double(s, out) || *out < 0 || *out > 1 ? -1 : 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
  int64_t v;
  if(ft_num_i64(s, &v) || v < lo || v > hi)
    return -1;
  *out = (int)v;
  return 0;
}

static int add_deny_chat(struct ft_runtime *rt, const char *s)
{
  int64_t id;
  if(ft_num_i64(s, &id) || rt->n_deny_chats >= FT_DENY_CHATS_MAX)
    return -1;
  rt->deny_chats[rt->n_deny_chats++] = id;
  return 0;
}

static int add_deny_token(struct ft_runtime *rt, const char *s)
{
  if(!s || !*s || strlen(s) > FT_TOKEN_MAX || rt->n_deny_tokens >= FT_DENY_TOKENS_MAX)
    return -1;
  strcpy(rt->deny_tokens[rt->n_deny_tokens++], s);
  return 0;
}

static void defaults(struct ft_config *c)
{
  memset(c, 0, sizeof(*c));
  c->port = 8081;
  c->rt.slow_ms = 2000;
  c->rt.pace_per_sec = 1.0;
  c->rt.pace_burst = 3;
  c->rt.pace_per_min = 20;
}

int ft_config_parse(struct ft_config *c, int argc, char **argv)
{
  struct ft_runtime *rt = &c->rt;
  const char *dir = NULL;
  int upload_set = 0, i;

  defaults(c);
  for(i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    int r = 0;

    if(!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      return 1;
    }
    else if(!strcmp(a, "--local"))
      c->local = 1;
    else if(!strcmp(a, "--html-413"))
      rt->html_413 = 1;
    else if(!strcmp(a, "--pace"))
      rt->pace = 1;
    else if(!strcmp(a, "--quiet"))
      c->quiet = 1;
    else if(take(argc, argv, &i, "--port", &v))
      r = parse_int(v, 0, 65535, &c->port);
    else if(take(argc, argv, &i, "--dir", &v))
      r = (dir = v) && *v ? 0 : -1;
    else if(take(argc, argv, &i, "--deny-chat", &v))
      r = add_deny_chat(rt, v);
    else if(take(argc, argv, &i, "--deny-token", &v))
      r = add_deny_token(rt, v);
    else if(take(argc, argv, &i, "--upload-limit", &v)) {
      r = ft_num_u64(v, &rt->upload_limit) || !rt->upload_limit ? -1 : 0;
      upload_set = 1;
    }
    else if(take(argc, argv, &i, "--download-limit", &v))
      r = ft_num_u64(v, &rt->download_limit) || !rt->download_limit ? -1 : 0;
    else if(take(argc, argv, &i, "--pace-per-sec", &v))
      r = ft_num_double(v, &rt->pace_per_sec) || rt->pace_per_sec < 0 ? -1 : 0;
    else if(take(argc, argv, &i, "--pace-burst", &v))
      r = parse_int(v, 1, 1000000, &rt->pace_burst);
    else if(take(argc, argv, &i, "--pace-per-min", &v))
      r = parse_int(v, 0, 100000, &rt->pace_per_min);
    else if(take(argc, argv, &i, "--bandwidth", &v))
      r = ft_num_u64(v, &rt->bandwidth);
    else if(take(argc, argv, &i, "--latency", &v))
      r = parse_int(v, 0, 600000, &rt->latency_ms);
    else if(take(argc, argv, &i, "--fail-rate", &v))
      r = parse_rate(v, &rt->fail_rate);
    else if(take(argc, argv, &i, "--drop-rate", &v))
      r = parse_rate(v, &rt->drop_rate);
    else if(take(argc, argv, &i, "--truncate-rate", &v))
      r = parse_rate(v, &rt->truncate_rate);
    else if(take(argc, argv, &i, "--slow-rate", &v))
      r = parse_rate(v, &rt->slow_rate);
    else if(take(argc, argv, &i, "--slow-ms", &v))
      r = parse_int(v, 0, 600000, &rt->slow_ms);
    else if(take(argc, argv, &i, "--seed", &v)) {
      r = ft_num_u64(v, &c->seed);
      c->has_seed = 1;
    }
    else {
      fprintf(stderr, "fake-telegram: unknown option '%s'\n%s", a, usage);
      return -1;
    }
    if(r) /* a missing value (v == NULL) fails its parser too */
      return bad(a, v);
  }
  if(!dir) {
    fprintf(stderr, "fake-telegram: --dir is required\n%s", usage);
    return -1;
  }
  if(mkdir(dir, 0700) && errno != EEXIST) {
    fprintf(stderr, "fake-telegram: cannot create %s: %s\n", dir, strerror(errno));
    return -1;
  }
  if(!realpath(dir, c->dir)) {
    fprintf(stderr, "fake-telegram: cannot resolve %s: %s\n", dir, strerror(errno));
    return -1;
  }
  if(!upload_set)
    rt->upload_limit = c->local ? FT_LOCAL_UPLOAD_LIMIT : FT_CLOUD_UPLOAD_LIMIT;
  if(!rt->download_limit)
    rt->download_limit = FT_CLOUD_DOWNLOAD_LIMIT;
  pthread_mutex_init(&c->lock, NULL);
  return 0;
}

void ft_config_free(struct ft_config *c)
{
  pthread_mutex_destroy(&c->lock);
}

void ft_config_snapshot(struct ft_config *c, struct ft_runtime *out)
{
  pthread_mutex_lock(&c->lock);
  *out = c->rt;
  pthread_mutex_unlock(&c->lock);
}

static int json_rate(json_t *v, double *out)
{
  if(!json_is_number(v))
    return -1;
  *out = json_number_value(v);
  return *out < 0 || *out > 1 ? -1 : 0;
}

static int json_int(json_t *v, int64_t lo, int64_t hi, int64_t *out)
{
  if(!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return -1;
  *out = json_integer_value(v);
  return 0;
}

/* Applies one key to rt; -1 when the key is unknown or the value invalid. */
static int apply_key(struct ft_runtime *rt, const char *key, json_t *v)
{
  int64_t n;
  size_t i;
  json_t *e;

  if(!strcmp(key, "fail_rate"))
    return json_rate(v, &rt->fail_rate);
  if(!strcmp(key, "drop_rate"))
    return json_rate(v, &rt->drop_rate);
  if(!strcmp(key, "truncate_rate"))
    return json_rate(v, &rt->truncate_rate);
  if(!strcmp(key, "slow_rate"))
    return json_rate(v, &rt->slow_rate);
  if(!strcmp(key, "pace") || !strcmp(key, "html_413")) {
    if(!json_is_boolean(v))
      return -1;
    *(key[0] == 'p' ? &rt->pace : &rt->html_413) = json_is_true(v);
    return 0;
  }
  if(!strcmp(key, "pace_per_sec")) {
    if(!json_is_number(v) || json_number_value(v) < 0)
      return -1;
    rt->pace_per_sec = json_number_value(v);
    return 0;
  }
  if(!strcmp(key, "slow_ms") || !strcmp(key, "latency_ms") || !strcmp(key, "latency")) {
    if(json_int(v, 0, 600000, &n))
      return -1;
    *(key[0] == 's' ? &rt->slow_ms : &rt->latency_ms) = (int)n;
    return 0;
  }
  if(!strcmp(key, "pace_burst")) {
    if(json_int(v, 1, 1000000, &n))
      return -1;
    rt->pace_burst = (int)n;
    return 0;
  }
  if(!strcmp(key, "pace_per_min")) {
    if(json_int(v, 0, 100000, &n))
      return -1;
    rt->pace_per_min = (int)n;
    return 0;
  }
  if(!strcmp(key, "bandwidth") || !strcmp(key, "upload_limit") ||
     !strcmp(key, "download_limit")) {
    if(json_int(v, 0, INT64_MAX, &n) || (n == 0 && key[0] != 'b'))
      return -1;
    if(key[0] == 'b')
      rt->bandwidth = (uint64_t)n;
    else
      *(key[0] == 'u' ? &rt->upload_limit : &rt->download_limit) = (uint64_t)n;
    return 0;
  }
  if(!strcmp(key, "deny_chats")) {
    if(!json_is_array(v) || json_array_size(v) > FT_DENY_CHATS_MAX)
      return -1;
    rt->n_deny_chats = 0;
    json_array_foreach(v, i, e) {
      if(!json_is_integer(e))
        return -1;
      rt->deny_chats[rt->n_deny_chats++] = json_integer_value(e);
    }
    return 0;
  }
  if(!strcmp(key, "deny_tokens")) {
    if(!json_is_array(v) || json_array_size(v) > FT_DENY_TOKENS_MAX)
      return -1;
    rt->n_deny_tokens = 0;
    json_array_foreach(v, i, e)
      if(!json_is_string(e) || add_deny_token(rt, json_string_value(e)))
        return -1;
    return 0;
  }
  return -1;
}

int ft_config_update(struct ft_config *c, const char *json, size_t len, char *err, size_t errsz)
{
  json_t *root = json_loadb(json, len, 0, NULL);
  struct ft_runtime rt;
  const char *key;
  json_t *v;
  int rc = -1;

  if(!root || !json_is_object(root)) {
    snprintf(err, errsz, "body must be a JSON object");
    goto out;
  }
  pthread_mutex_lock(&c->lock);
  rt = c->rt;
  json_object_foreach(root, key, v) {
    if(apply_key(&rt, key, v)) {
      pthread_mutex_unlock(&c->lock);
      snprintf(err, errsz, "invalid setting '%.64s'", key);
      goto out;
    }
  }
  c->rt = rt; /* all keys valid: apply them together */
  pthread_mutex_unlock(&c->lock);
  rc = 0;
out:
  json_decref(root);
  return rc;
}

json_t *ft_config_json(struct ft_config *c)
{
  struct ft_runtime rt;
  json_t *o, *chats, *tokens;
  size_t i;
  int port;

  pthread_mutex_lock(&c->lock);
  rt = c->rt;
  port = c->port;
  pthread_mutex_unlock(&c->lock);
  chats = json_array();
  for(i = 0; i < rt.n_deny_chats; i++)
    json_array_append_new(chats, json_integer(rt.deny_chats[i]));
  tokens = json_array();
  for(i = 0; i < rt.n_deny_tokens; i++)
    json_array_append_new(tokens, json_string(rt.deny_tokens[i]));
  o = json_pack("{s:b, s:s, s:I, s:f, s:f, s:f, s:f, s:i, s:b, s:f, s:i, s:i, s:I, s:i, s:b,"
                " s:I, s:I, s:o, s:o}",
                "local", c->local, "dir", c->dir, "port", (json_int_t)port,
                "fail_rate", rt.fail_rate, "drop_rate", rt.drop_rate,
                "truncate_rate", rt.truncate_rate, "slow_rate", rt.slow_rate,
                "slow_ms", rt.slow_ms, "pace", rt.pace, "pace_per_sec", rt.pace_per_sec,
                "pace_burst", rt.pace_burst, "pace_per_min", rt.pace_per_min,
                "bandwidth", (json_int_t)rt.bandwidth, "latency_ms", rt.latency_ms,
                "html_413", rt.html_413, "upload_limit", (json_int_t)rt.upload_limit,
                "download_limit", (json_int_t)rt.download_limit,
                "deny_chats", chats, "deny_tokens", tokens);
  return o;
}

int ft_runtime_chat_denied(const struct ft_runtime *rt, int64_t chat_id)
{
  size_t i;
  for(i = 0; i < rt->n_deny_chats; i++)
    if(rt->deny_chats[i] == chat_id)
      return 1;
  return 0;
}

int ft_runtime_token_denied(const struct ft_runtime *rt, const char *token)
{
  size_t i;
  for(i = 0; i < rt->n_deny_tokens; i++)
    if(!strcmp(rt->deny_tokens[i], token))
      return 1;
  return 0;
}
