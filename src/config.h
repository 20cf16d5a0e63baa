/* config: every setting from the environment, an optional .env file in the
 * working directory, and command-line flags (flags win over env, env over
 * .env, .env over defaults). Loaded once at start into an immutable struct. */
#ifndef NETRA_CONFIG_H
#define NETRA_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/cidr.h"

enum storage_backend { STORAGE_LOCAL = 0, STORAGE_TELEGRAM };
enum dedup_mode { DEDUP_LINK = 0, DEDUP_REJECT };

struct config {
  char *host;                     /* HOST, --host (127.0.0.1) */
  int port;                       /* PORT, --port (8000) */
  char *data_dir;                 /* DATA_DIR, --data-dir (./data) */
  char *database_url;             /* DATABASE_URL, --database-url (sqlite://$DATA_DIR/netradrive.db) */
  char *secret_key;               /* SECRET_KEY; NULL until secret_ensure (secret.h) */
  long access_token_expire_minutes; /* 30 */
  long refresh_token_expire_days;   /* 7 */
  enum storage_backend storage_backend; /* STORAGE_BACKEND local|telegram */
  bool shared_data_dir;           /* SHARED_DATA_DIR: every node sees one DATA_DIR (false) */
  char *telegram_bot_token;       /* comma list, raw */
  char *telegram_storage_chat_id; /* comma list, raw */
  char *telegram_api_url;         /* https://api.telegram.org */
  bool telegram_local_mode;
  int telegram_parallel;          /* TELEGRAM_PARALLEL_UPLOADS (4) */
  bool telegram_pacing;           /* TELEGRAM_PACING: client-side flood control (true) */
  uint64_t chunk_size;            /* CHUNK_SIZE; default 20 MiB - 64 KiB (telegram) / 8 MiB (local) */
  uint64_t max_upload_size;       /* MAX_UPLOAD_SIZE (0 = no limit) */
  uint64_t cache_size;            /* CACHE_SIZE (1 GiB) */
  enum dedup_mode dedup;          /* DEDUP link|reject */
  char *cors_origins;             /* CORS_ORIGINS comma list, "" = none */
  char *public_url;               /* PUBLIC_URL (http://HOST:PORT) */
  char *smtp_url;                 /* SMTP_URL, NULL when unset */
  char *smtp_from;                /* SMTP_FROM (netradrive@localhost) */
  bool require_email_verification;/* default: on iff smtp_url is set */
  bool allow_private_urls;        /* ALLOW_PRIVATE_URLS (false) */
  int max_url_jobs_per_user;      /* MAX_URL_JOBS_PER_USER (3) */
  int max_url_jobs;               /* MAX_URL_JOBS (16): running URL jobs in all */
  int url_connect_timeout;        /* URL_CONNECT_TIMEOUT seconds (10) */
  int url_idle_timeout;           /* URL_IDLE_TIMEOUT seconds (60) */
  int bin_retention_days;         /* BIN_RETENTION_DAYS (30) */
  int bin_batch_folders;          /* BIN_BATCH_FOLDERS: folder rows per bin/restore batch at most (1000) */
  int bin_batch_ms;               /* BIN_BATCH_MS: a batch's time budget (0: per engine) */
  int bin_batch_pause_ms;         /* BIN_BATCH_PAUSE_MS: sleep between batches, for tests (0) */
  int node_timeout;               /* NODE_TIMEOUT seconds (30): a node silent this long is dead */
  int log_level;                  /* LOG_LEVEL debug|info|warn|error (info) */
  int log_format;                 /* LOG_FORMAT text|json (text) */
  char *metrics_token;            /* METRICS_TOKEN: bearer token /metrics asks for; NULL = open */
  int threads;                    /* THREADS, --threads: HTTP worker threads (4) */
  int login_max_failures;         /* LOGIN_MAX_FAILURES per account/address per window (5) */
  int login_window_seconds;       /* LOGIN_WINDOW_SECONDS (900) */
  int max_connections;            /* MAX_CONNECTIONS: open connections in all (1024) */
  int max_connections_per_ip;     /* MAX_CONNECTIONS_PER_IP, 0 = no limit (64) */
  int keepalive_timeout;          /* KEEPALIVE_TIMEOUT s: idle or unfinished head (15) */
  uint64_t connection_memory;     /* CONNECTION_MEMORY: an upload's read size (256K) */
  uint64_t listing_cache;         /* LISTING_CACHE: listing pages per HTTP thread (1M) */
  int ws_max_connections;         /* WS_MAX_CONNECTIONS: open WebSockets in all (256) */
  int ws_max_per_user;            /* WS_MAX_PER_USER (8) */
  int ws_ping_interval;           /* WS_PING_INTERVAL s: WebSocket heartbeat (30) */
  struct cidr_list trusted_proxies; /* TRUSTED_PROXIES: whose X-Forwarded-For to believe (none) */
  struct cidr_list url_allowed_networks; /* URL_ALLOWED_NETWORKS: internal ranges URL uploads may reach (none) */
  int account_requests_per_address;    /* ACCOUNT_REQUESTS_PER_ADDRESS: signups, and */
  int account_requests_window_seconds; /* forgot-passwords, per window (10 per 600 s) */
};

/** Loads the configuration. `argv` may hold flags after the subcommand
 *  (--host H --port N --data-dir D --database-url U --log-level L --threads N).
 *  On a bad value returns -1 and writes one line naming the variable to `err`. */
int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/** For the commands that store or read chunks (serve, gc, fsck): local
 *  storage with PostgreSQL (several nodes) needs SHARED_DATA_DIR=true.
 *  Commands that touch only the database (migrate, backup) skip it. 0, or
 *  -1 with one line naming the variable in `err`. */
int config_check_storage(const struct config *cfg, char *err, size_t errlen);

/** Frees every string of a loaded config. */
void config_free(struct config *cfg);

#endif
