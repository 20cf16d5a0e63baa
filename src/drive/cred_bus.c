/* cred_bus: see cred_bus.h. The payload is the user id (ID_LEN characters);
 * a node also hears its own notifications, which only forget again. */
#include <pthread.h>
#include <stdbool.h>
#include "db/db.h"
#include "drive/cred_bus.h"
#include "drive/credcache.h"
#include "util/id.h"
#include "util/log.h"

#define CRED_BUS_WAIT_MS 500   /* the listener checks for stop this often */

static pthread_mutex_t cred_bus_lock = PTHREAD_MUTEX_INITIALIZER;
static bool cred_bus_running;
static pthread_t cred_bus_thread;
static db_listener_t *cred_bus_listen;

static void *cred_bus_main(void *arg)
{
  char payload[64];
  bool lost = false;
  for(;;) {
    pthread_mutex_lock(&cred_bus_lock);
    bool running = cred_bus_running;
    pthread_mutex_unlock(&cred_bus_lock);
    if(!running)
      break;
    int rc = db_listen_wait(cred_bus_listen, CRED_BUS_WAIT_MS, payload, sizeof(payload));
    if(rc == DB_UNAVAILABLE) {
      lost = true;
      continue;
    }
    if(lost) {
      /* Revocations sent meanwhile never reached us: trust nothing cached. */
      credcache_clear();
      log_info("webdav: credential cache emptied after the notification connection came back");
      lost = false;
    }
    if(rc == DB_ROW && id_valid(payload))
      credcache_forget_user(payload);
  }
  return NULL;
}

int cred_bus_start(void)
{
  if(db_dialect() != DB_POSTGRES)
    return 0;
  cred_bus_listen = db_listen_open("LISTEN netradrive_creds");
  if(!cred_bus_listen)
    return -1;
  cred_bus_running = true;
  if(pthread_create(&cred_bus_thread, NULL, cred_bus_main, NULL) != 0) {
    cred_bus_running = false;
    db_listen_close(cred_bus_listen);
    cred_bus_listen = NULL;
    return -1;
  }
  return 0;
}

void cred_bus_stop(void)
{
  if(!cred_bus_listen)
    return;
  pthread_mutex_lock(&cred_bus_lock);
  cred_bus_running = false;
  pthread_mutex_unlock(&cred_bus_lock);
  pthread_join(cred_bus_thread, NULL);
  db_listen_close(cred_bus_listen);
  cred_bus_listen = NULL;
}

void cred_bus_notify(const char *user_id)
{
  db_t *db = db_get();
  if(db_dialect() != DB_POSTGRES)
    return;
  if(!db || db_exec(db, "SELECT pg_notify('netradrive_creds', $1)", "t", user_id) != DB_OK)
    log_warn("webdav: cannot tell the other nodes to forget the credentials of user %s; "
             "theirs expire within a minute", user_id);
}

void cred_bus_forget_user(const char *user_id)
{
  credcache_forget_user(user_id);
  cred_bus_notify(user_id);
}
