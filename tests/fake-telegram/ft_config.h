/* ft_config: command-line flags, and the part of the settings that tests may
 * change at run time through POST /_fake/config. Requests take a snapshot of
 * the runtime settings when they start, so one request sees one config. */
#ifndef FT_CONFIG_H
#define FT_CONFIG_H
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ft_ids.h"

#define FT_DENY_CHATS_MAX 64
#define FT_DENY_TOKENS_MAX 16
#define FT_CLOUD_UPLOAD_LIMIT (50ull * 1000 * 1000)     /* hosted Bot API */
#define FT_LOCAL_UPLOAD_LIMIT (2000ull * 1000 * 1000)   /* telegram-bot-api --local */
#define FT_CLOUD_DOWNLOAD_LIMIT (20ull * 1024 * 1024)   /* getFile in cloud mode */

/** Settings that may change while the fake runs. */
struct ft_runtime {
  double fail_rate;        /* share of API calls/downloads answered 500/502 */
  double drop_rate;        /* share closed without an answer */
  double truncate_rate;    /* share of downloads cut short */
  double slow_rate;        /* share answered after slow_ms */
  int slow_ms;
  int pace;                /* per-chat rate limiting on/off */
  double pace_per_sec;     /* token refill per second */
  int pace_burst;          /* bucket size */
  int pace_per_min;        /* messages per chat per rolling minute */
  uint64_t bandwidth;      /* bytes/s per connection each way; 0 = unlimited */
  int latency_ms;          /* added before every Bot API answer */
  int html_413;            /* answer 413 as nginx's HTML page */
  uint64_t upload_limit;   /* largest accepted document, bytes */
  uint64_t download_limit; /* largest file getFile serves (cloud mode), bytes */
  int64_t deny_chats[FT_DENY_CHATS_MAX];
  size_t n_deny_chats;
  char deny_tokens[FT_DENY_TOKENS_MAX][FT_TOKEN_MAX + 1];
  size_t n_deny_tokens;
};

struct ft_config {
  int port;                 /* 0 = any free port (printed at start) */
  char dir[PATH_MAX];       /* absolute path of the data directory */
  int local;                /* --local: big files, absolute file_path */
  uint64_t seed;
  int has_seed;
  int quiet;
  pthread_mutex_t lock;     /* guards rt (and port, set once bound) */
  struct ft_runtime rt;
};

/** Parses argv; 0 to run, 1 when --help was printed, -1 after printing an error. */
int ft_config_parse(struct ft_config *c, int argc, char **argv);
/** Releases the lock. */
void ft_config_free(struct ft_config *c);
/** Copies the current runtime settings. */
void ft_config_snapshot(struct ft_config *c, struct ft_runtime *out);
/** Applies a JSON object of runtime settings, all or nothing; on error -1 and
 *  a message in err. */
int ft_config_update(struct ft_config *c, const char *json, size_t len, char *err, size_t errsz);
/** The current settings as a JSON object (new reference). */
json_t *ft_config_json(struct ft_config *c);
/** 1 when the bot is told it is not a member of `chat_id`. */
int ft_runtime_chat_denied(const struct ft_runtime *rt, int64_t chat_id);
/** 1 when `token` is configured to be rejected. */
int ft_runtime_token_denied(const struct ft_runtime *rt, const char *token);

#endif
