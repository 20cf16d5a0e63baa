/* fake-telegram: a Telegram Bot API server for NetraDrive's tests and
 * benchmarks. See README.md for flags, routes and the control API. */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "ft_app.h"
#include "ft_fault.h"
#include "ft_ids.h"
#include "ft_server.h"

static struct ft_app app;

int main(int argc, char **argv)
{
  unsigned char secret[FT_IDS_SECRET_LEN];
  struct MHD_Daemon *d = NULL;
  sigset_t set;
  int sig, rc, ret = 1;

  rc = ft_config_parse(&app.cfg, argc, argv);
  if(rc)
    return rc > 0 ? 0 : 2;
  if(sodium_init() < 0) {
    fprintf(stderr, "fake-telegram: libsodium failed to start\n");
    goto out_cfg;
  }
  if(ft_store_open(&app.store, app.cfg.dir, secret))
    goto out_store;
  ft_ids_init(secret);
  sodium_memzero(secret, sizeof(secret));
  ft_fault_seed(app.cfg.has_seed ? app.cfg.seed : ((uint64_t)randombytes_random() << 32) |
                                                    randombytes_random());
  ft_pace_init(&app.pace);

  /* handle SIGINT/SIGTERM by sigwait in this thread; block them before MHD
   * starts its threads so they inherit the mask */
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  d = ft_server_start(&app, app.cfg.port);
  if(!d) {
    fprintf(stderr, "fake-telegram: cannot listen on 127.0.0.1:%d\n", app.cfg.port);
    goto out_pace;
  }
  pthread_mutex_lock(&app.cfg.lock);
  app.cfg.port = ft_server_port(d); /* the real one when --port 0 */
  pthread_mutex_unlock(&app.cfg.lock);
  if(!app.cfg.quiet) {
    printf("fake-telegram listening on 127.0.0.1:%d (%s mode, dir %s)\n", app.cfg.port,
           app.cfg.local ? "local" : "cloud", app.cfg.dir);
    fflush(stdout);
  }
  sigwait(&set, &sig);
  MHD_stop_daemon(d);
  ret = 0;
out_pace:
  ft_pace_free(&app.pace);
out_store:
  ft_store_close(&app.store);
out_cfg:
  ft_config_free(&app.cfg);
  return ret;
}
