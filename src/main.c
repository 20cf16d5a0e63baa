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
#include "drive/maint.h"
#include "drive/store.h"
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
                  "       netradrive fsck [--repair]\n");
}

/* `gc` and `fsck`: maintenance on the same database and store as the server. */
static int maintenance(const char *cmd, struct config *cfg, bool flag)
{
  char err[512];
  struct maint_report rep;
  if(store_init(cfg, false, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    return 1;
  }
  db_t *db = db_get();
  int rc;
  if(!strcmp(cmd, "gc"))
    rc = maint_gc(cfg, db, flag ? 0 : 24LL * 3600 * 1000, stdout, &rep);
  else {
    rc = maint_fsck(cfg, db, flag, stdout, &rep);
    if(rc == 0 && !flag && (rep.files_damaged || rep.orphans_found))
      rc = 3;   /* problems found and not repaired */
  }
  store_shutdown();
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

  if(api_init(cfg, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    return 1;
  }
  struct http_options opt = {
    .host = cfg->host,
    .port = cfg->port,
    .threads = cfg->threads,
    .cors_origins = cfg->cors_origins,
    .auth = api_auth_bearer,
    .tables = api_route_tables(),
  };
  if(http_start(&opt, err, sizeof(err)) != 0) {
    fprintf(stderr, "netradrive: %s\n", err);
    api_shutdown();
    return 1;
  }
  log_info("netradrive %s listening on http://%s:%d (database %s, storage %s)", NETRA_VERSION,
           cfg->host, cfg->port, cfg->database_url,
           cfg->storage_backend == STORAGE_TELEGRAM ? "telegram" : "local");
  int sig = 0;
  sigwait(&set, &sig);
  log_info("received %s, finishing in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
  http_stop(10000);
  api_shutdown();
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
  if(secret_ensure(&cfg, err, sizeof(err)) != 0) {
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
