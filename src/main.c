/* netradrive: serve | migrate | gc | fsck | backup | version */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "api/api.h"
#include "dav/dav.h"
#include "api/listing_cache.h"
#include "config.h"
#include "db/db.h"
#include "db/db_copy.h"
#include "drive/domain.h"
#include "drive/maint.h"
#include "http/http.h"
#include "http/listen.h"
#include "secret.h"
#include "util/fsutil.h"
#include "util/log.h"

#define NETRA_VERSION "0.1.0"

/* The commands and what `help` says of each. */
static const struct cli_command {
  const char *name, *args, *what;
} cli_commands[] = {
  {"serve", "[FLAGS]", "Run the server (the default command)."},
  {"migrate", "[FLAGS] | --from URL --to URL",
   "Bring the database schema up to date, then exit. With --from and --to: copy all the\n"
   "metadata from one database to another (e.g. --from sqlite:///srv/data/netradrive.db\n"
   "--to postgresql://user@host/db), making the target's schema first; the target must be\n"
   "empty or an earlier run of the same copy (then it resumes, or says \"already copied\").\n"
   "Prints each table's row count and checksum on both sides; exits 1 on any difference.\n"
   "Stop the servers first. Chunks stay where they are (docs/DEPLOY.md)."},
  {"gc", "[--all-staged] [FLAGS]",
   "Carry out pending storage deletions and remove unreferenced chunks older than an hour\n"
   "and stale spool files. --all-staged: also chunks of uploads that never finished and\n"
   "unreferenced chunks of any age (only while no server runs)."},
  {"fsck", "[--repair] [FLAGS]",
   "Read every stored chunk back and check its size and checksum; report damaged files\n"
   "and unreferenced chunks; recount every folder's live children against its counter;\n"
   "check every folder's tree key against its place. Exits 3 when it found problems it\n"
   "did not repair. --repair: remove damaged files and unreferenced chunks, rebuild the\n"
   "counters and the tree keys (only while no server runs)."},
  {"backup", "DEST_FILE [FLAGS]",
   "Copy the SQLite database into DEST_FILE while the server keeps running (SQLite's\n"
   "backup API; written to DEST_FILE.tmp, fsynced, then renamed). Local chunks under\n"
   "DATA_DIR/chunks are not included: copy them after this (docs/DEPLOY.md)."},
  {"version", "", "Print the version."},
  {"help", "[COMMAND]", "Show this help, or one command's."},
};

static void cli_flags(FILE *f)
{
  fputs("\nFLAGS (each also an environment variable or a line in ./.env):\n"
        "  --host H           HOST, listen address (127.0.0.1; IPv6 and localhost too)\n"
        "  --port N           PORT (8000)\n"
        "  --data-dir D       DATA_DIR (./data)\n"
        "  --database-url U   DATABASE_URL (sqlite://$DATA_DIR/netradrive.db)\n"
        "  --log-level L      LOG_LEVEL: debug, info, warn, error (info)\n"
        "  --threads N        THREADS, HTTP worker threads (4)\n"
        "Every setting is listed in README.md (Configuration).\n", f);
}

/* `migrate --from URL --to URL` (db/db_copy.h); -1 when neither flag is
 * given (then migrate brings DATABASE_URL's schema up to date). */
static int migrate_copy(int argc, char **argv)
{
  const char *from = NULL, *to = NULL;
  for(int i = 0; i < argc; i++) {
    const char **v = !strncmp(argv[i], "--from", 6) ? &from : !strncmp(argv[i], "--to", 4) ? &to : NULL;
    size_t n = v == &from ? 6 : 4;
    if(v && argv[i][n] == '=')
      *v = argv[i] + n + 1;
    else if(v && !argv[i][n] && i + 1 < argc)
      *v = argv[++i];
    else if(v && !argv[i][n]) {
      fprintf(stderr, "netradrive: %s needs a database URL\n", argv[i]);
      return 2;
    }
  }
  if(!from && !to)
    return -1;
  for(int i = 0; i < argc; i++)
    if(strncmp(argv[i], "--from", 6) && strncmp(argv[i], "--to", 4) &&
       (i == 0 || (strcmp(argv[i - 1], "--from") && strcmp(argv[i - 1], "--to")))) {
      fprintf(stderr, "netradrive: migrate --from/--to: unexpected argument '%s'\n", argv[i]);
      return 2;
    }
  const char *miss = !from ? "--from" : !to ? "--to" : NULL;
  if(miss) {
    fprintf(stderr, "netradrive: migrate: %s URL is missing (migrate --from URL --to URL)\n", miss);
    return 2;
  }
  const char *bad = strncmp(from, "sqlite://", 9) && strncmp(from, "postgresql://", 13) &&
                    strncmp(from, "postgres://", 11) ? "--from"
                  : strncmp(to, "sqlite://", 9) && strncmp(to, "postgresql://", 13) &&
                    strncmp(to, "postgres://", 11) ? "--to" : NULL;
  if(bad) {
    fprintf(stderr, "netradrive: %s: must start with sqlite:// or postgresql://\n", bad);
    return 2;
  }
  if(sodium_init() < 0) {
    fprintf(stderr, "netradrive: libsodium failed to initialise\n");
    return 1;
  }
  log_set_level(LOG_WARN); /* not a line per migration applied to the target */
  return db_copy(from, to, stdout, stderr);
}

/* `help [COMMAND]`; the whole list when `cmd` is NULL. 0, or 2 for an
 * unknown command. */
static int usage_to(FILE *f, const char *cmd)
{
  size_t n = sizeof(cli_commands) / sizeof(cli_commands[0]);
  for(size_t i = 0; cmd && i < n; i++) {
    if(!strcmp(cmd, cli_commands[i].name)) {
      fprintf(f, "usage: netradrive %s %s\n\n%s\n", cli_commands[i].name, cli_commands[i].args,
              cli_commands[i].what);
      if(strstr(cli_commands[i].args, "FLAGS"))
        cli_flags(f);
      return 0;
    }
  }
  if(cmd) {
    f = stderr;   /* a mistake: the list goes where errors go */
    fprintf(f, "netradrive: unknown command '%s'\n\n", cmd);
  }
  fputs("usage: netradrive [COMMAND] [FLAGS]\n\nCOMMANDS:\n", f);
  for(size_t i = 0; i < n; i++) {
    const char *nl = strchr(cli_commands[i].what, '\n');
    int len = nl ? (int)(nl - cli_commands[i].what) : (int)strlen(cli_commands[i].what);
    fprintf(f, "  %-9s %.*s\n", cli_commands[i].name, len, cli_commands[i].what);
  }
  cli_flags(f);
  fputs("\n'netradrive help COMMAND' tells more about one command.\n", f);
  return cmd ? 2 : 0;
}

/* The domain's settings, taken from the configuration. */
static void drive_options_from(const struct config *cfg, bool background,
                               struct drive_options *o)
{
  *o = (struct drive_options){
    .store = {
      .kind = cfg->storage_backend == STORAGE_TELEGRAM ? BLOB_KIND_TELEGRAM : BLOB_KIND_LOCAL,
      .data_dir = cfg->data_dir,
      .chunk_size = cfg->chunk_size,
      .cache_size = cfg->cache_size,
      .telegram = {
        .bot_tokens = cfg->telegram_bot_token,
        .chat_ids = cfg->telegram_storage_chat_id,
        .api_url = cfg->telegram_api_url,
        .local_mode = cfg->telegram_local_mode,
        .parallel = cfg->telegram_parallel,
        .pacing = cfg->telegram_pacing,
      },
    },
    .secret_key = cfg->secret_key,
    .access_ttl_s = (int64_t)cfg->access_token_expire_minutes * 60,
    .refresh_ttl_s = (int64_t)cfg->refresh_token_expire_days * 86400,
    .login_max_failures = cfg->login_max_failures,
    .login_window_s = cfg->login_window_seconds,
    .addr_max_requests = cfg->account_requests_per_address,
    .addr_window_s = cfg->account_requests_window_seconds,
    .public_url = cfg->public_url,
    .require_verification = cfg->require_email_verification,
    .smtp_url = cfg->smtp_url,
    .smtp_from = cfg->smtp_from,
    .max_upload_size = cfg->max_upload_size,
    .dedup_reject = cfg->dedup == DEDUP_REJECT,
    .bin_retention_days = cfg->bin_retention_days,
    .bin_batch_folders = cfg->bin_batch_folders,
    .bin_batch_ms = cfg->bin_batch_ms,
    .bin_batch_pause_ms = cfg->bin_batch_pause_ms,
    .node_timeout_ms = (int64_t)cfg->node_timeout * 1000,
    .urljobs = {
      .allow_private = cfg->allow_private_urls,
      .allowed = &cfg->url_allowed_networks,
      .max_per_user = cfg->max_url_jobs_per_user,
      .max_total = cfg->max_url_jobs,
      .connect_timeout_s = cfg->url_connect_timeout,
      .idle_timeout_s = cfg->url_idle_timeout,
    },
    .background = background,
  };
}

/* `gc` and `fsck`: maintenance on the same database and store as the server. */
static int maintenance(const char *cmd, struct config *cfg, bool flag)
{
  char err[512];
  struct maint_report rep;
  struct drive_options o;
  drive_options_from(cfg, false, &o);
  if(drive_init(&o, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    return 1;
  }
  int rc;
  if(!strcmp(cmd, "gc"))
    rc = maint_gc(cfg->data_dir, flag ? 0 : 24LL * 3600 * 1000, stdout, stderr, &rep);
  else {
    rc = maint_fsck(flag, stdout, stderr, &rep);
    /* Problems found and not (all) repaired. */
    if(rc == 0 && (rep.files_damaged > rep.files_removed || rep.orphans_found > rep.orphans_removed ||
                   rep.counters_wrong > rep.counters_fixed || rep.keys_wrong > rep.keys_fixed))
      rc = 3;
  }
  drive_shutdown();
  return rc < 0 ? 1 : rc;
}

/* `backup DEST_FILE`: touches nothing in DATA_DIR and runs no migration, so
 * a newer binary may back up an older server's database. */
static int backup(const struct config *cfg, const char *dest)
{
  char err[512];
  int64_t pages = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if(db_backup(cfg->database_url, dest, &pages, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("backup: %s: %lld pages written to %s in %.2f s\n", cfg->database_url, (long long)pages,
         dest, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}

/* What the server routes: the API's tables, then the WebDAV share. */
static const struct http_route *const *serve_tables(void)
{
  static const struct http_route *all[32];
  size_t n = 0;
  for(const struct http_route *const *t = api_route_tables(); *t && n < 30; t++)
    all[n++] = *t;
  all[n++] = dav_routes;
  all[n] = NULL;
  return all;
}

static int serve(struct config *cfg, int lfd)
{
  char err[512];
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  /* Block before any thread starts so only sigwait below sees them. */
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  struct drive_options o;
  drive_options_from(cfg, true, &o);
  if(drive_init(&o, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    close(lfd);
    return 1;
  }
  listing_cache_setup((size_t)cfg->listing_cache);
  struct http_options opt = {
    .listen_fd = lfd,
    .host = cfg->host,
    .port = cfg->port,
    .threads = cfg->threads,
    .cors_origins = cfg->cors_origins,
    .trusted_proxies = &cfg->trusted_proxies,
    .max_connections = cfg->max_connections,
    .max_connections_per_ip = cfg->max_connections_per_ip,
    .keepalive_timeout = cfg->keepalive_timeout,
    .connection_memory = (size_t)cfg->connection_memory,
    .ws_max = cfg->ws_max_connections,
    .ws_ping_ms = cfg->ws_ping_interval * 1000,
    .auth = api_auth_bearer,
    .auth_free = api_auth_free,
    .auth_user = api_auth_user,
    .tables = serve_tables(),
  };
  api_ws_set_limit(cfg->ws_max_per_user);
  if(api_metrics_set_token(cfg->metrics_token) != 0) {
    fprintf(stderr, "netradrive: METRICS_TOKEN: out of memory\n");
    drive_shutdown();
    return 1;
  }
  if(http_start(&opt, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    drive_shutdown();
    return 1;
  }
  bool v6 = strchr(cfg->host, ':') && cfg->host[0] != '[';
  log_info("netradrive %s listening on http://%s%s%s:%d (database %s, storage %s)", NETRA_VERSION,
           v6 ? "[" : "", cfg->host, v6 ? "]" : "", cfg->port, cfg->database_url,
           cfg->storage_backend == STORAGE_TELEGRAM ? "telegram" : "local");
  int sig = 0;
  sigwait(&set, &sig);
  log_info("received %s, finishing in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
  http_stop(10000);
  drive_shutdown();
  log_info("stopped");
  return 0;
}

int main(int argc, char **argv)
{
  const char *cmd = "serve";
  int argi = 1;
  if(argc > 1 && argv[1][0] != '-') {
    cmd = argv[1];
    argi = 2;
  }
  if(!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
    printf("netradrive %s\n", NETRA_VERSION);
    return 0;
  }
  if(!strcmp(cmd, "routes")) { /* hidden: what the router serves, for tests/api/test_openapi.py */
    for(const struct http_route *const *t = api_route_tables(); *t; t++)
      for(const struct http_route *rt = *t; rt->method; rt++)
        printf("%s %s\n", rt->method, rt->pattern);
    return 0;
  }
  if(!strcmp(cmd, "help"))
    return usage_to(stdout, argc > 2 ? argv[2] : NULL);
  for(int i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
      return usage_to(stdout, argi == 2 ? cmd : NULL);
  }
  if(!strcmp(cmd, "migrate")) {
    int crc = migrate_copy(argc - argi, argv + argi);
    if(crc >= 0)
      return crc;
  }
  /* Subcommand switches are taken out before the config sees the flags. */
  bool flag = false;
  if(!strcmp(cmd, "gc") || !strcmp(cmd, "fsck")) {
    const char *want = !strcmp(cmd, "gc") ? "--all-staged" : "--repair";
    for(int i = argi; i < argc; i++)
      if(!strcmp(argv[i], want)) {
        flag = true;
        memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
        argc--;
        break;
      }
  }
  const char *dest = NULL;
  if(!strcmp(cmd, "backup")) {
    if(argi >= argc || argv[argi][0] == '-') {
      fputs("netradrive: backup needs DEST_FILE (netradrive backup DEST_FILE)\n", stderr);
      return 2;
    }
    dest = argv[argi++];
  }
  else if(strcmp(cmd, "serve") && strcmp(cmd, "migrate") && strcmp(cmd, "gc") && strcmp(cmd, "fsck"))
    return usage_to(stderr, cmd);
  if(sodium_init() < 0) {
    fprintf(stderr, "netradrive: libsodium failed to initialise\n");
    return 1;
  }
  /* Once for the process and before any thread starts: curl_global_init is
   * not thread-safe, and both mail and Telegram use libcurl. */
  if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "netradrive: libcurl failed to initialise\n");
    return 1;
  }

  struct config cfg = {0};
  char err[512];
  int rc = 1, lfd = -1;
  if(config_load(&cfg, argc - argi, argv + argi, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    goto out;
  }
  log_set_level((enum log_level)cfg.log_level);
  log_set_format((enum log_format)cfg.log_format);
  if(!dest && strcmp(cmd, "migrate") && config_check_storage(&cfg, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    goto out;
  }
  if(dest) {
    rc = backup(&cfg, dest);
    goto out;
  }
  /* The port first: a second server on a busy port must stop before it
   * touches the data directory or the database (it would clear the first
   * one's upload spool). */
  if(!strcmp(cmd, "serve") && (lfd = http_listen_open(cfg.host, cfg.port, err, sizeof(err))) < 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    goto out;
  }
  if(fs_mkdir_p(cfg.data_dir, 0700) != 0) {
    fprintf(stderr, "netradrive: DATA_DIR: cannot create '%s': %s\n", cfg.data_dir, strerror(errno));
    goto out;
  }
  if(secret_ensure(cfg.data_dir, &cfg.secret_key, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    goto out;
  }
  if(db_init(cfg.database_url, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    goto out;
  }
  if(!strcmp(cmd, "migrate")) {
    printf("database is up to date\n");
    rc = 0;
  }
  else if(!strcmp(cmd, "gc") || !strcmp(cmd, "fsck"))
    rc = maintenance(cmd, &cfg, flag);
  else {
    rc = serve(&cfg, lfd);
    lfd = -1;   /* serve took it */
  }
out:
  if(lfd >= 0)
    close(lfd);
  db_shutdown(); /* also closes what a failed db_init opened */
  config_free(&cfg);
  curl_global_cleanup();
  return rc;
}
