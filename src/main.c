/* netradrive: serve | migrate | gc | fsck | version */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/api.h"
#include "config.h"
#include "db/db.h"
#include "drive/domain.h"
#include "drive/maint.h"
#include "http/http.h"
#include "secret.h"
#include "util/fsutil.h"
#include "util/log.h"

#define NETRA_VERSION "0.1.0"

static void usage(void)
{
  fprintf(stderr, "usage: netradrive [serve|migrate|gc|fsck|version] [--host H] [--port N] "
                  "[--data-dir D] [--database-url U] [--log-level L] [--threads N]\n"
                  "       netradrive gc [--all-staged]   (use --all-staged only while no server runs)\n"
                  "       netradrive fsck [--repair]     (use --repair only while no server runs)\n");
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
    .urljobs = {
      .allow_private = cfg->allow_private_urls,
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
    rc = maint_gc(cfg->data_dir, flag ? 0 : 24LL * 3600 * 1000, stdout, &rep);
  else {
    rc = maint_fsck(flag, stdout, &rep);
    if(rc == 0 && !flag && (rep.files_damaged || rep.orphans_found))
      rc = 3;   /* problems found and not repaired */
  }
  drive_shutdown();
  return rc < 0 ? 1 : rc;
}

static int serve(struct config *cfg)
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
    return 1;
  }
  struct http_options opt = {
    .host = cfg->host,
    .port = cfg->port,
    .threads = cfg->threads,
    .cors_origins = cfg->cors_origins,
    .trusted_proxies = &cfg->trusted_proxies,
    .max_connections = cfg->max_connections,
    .max_connections_per_ip = cfg->max_connections_per_ip,
    .keepalive_timeout = cfg->keepalive_timeout,
    .connection_memory = (size_t)cfg->connection_memory,
    .auth = api_auth_bearer,
    .auth_free = api_auth_free,
    .tables = api_route_tables(),
  };
  if(http_start(&opt, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    drive_shutdown();
    return 1;
  }
  log_info("netradrive %s listening on http://%s:%d (database %s, storage %s)", NETRA_VERSION,
           cfg->host, cfg->port, cfg->database_url,
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
  else if(strcmp(cmd, "serve") && strcmp(cmd, "migrate")) {
    usage();
    return 2;
  }
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
  int rc = 1;
  if(config_load(&cfg, argc - argi, argv + argi, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    goto out;
  }
  log_set_level((enum log_level)cfg.log_level);
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
  else
    rc = serve(&cfg);
out:
  db_shutdown(); /* also closes what a failed db_init opened */
  config_free(&cfg);
  curl_global_cleanup();
  return rc;
}
