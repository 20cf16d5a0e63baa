/* cred_bus: see cred_bus.h. The payload is the user id (ID_LEN characters);
 * a node also hears its own notifications, which only forget again. */
#include "db/db.h"
#include "db/db_listen.h"
#include "drive/cred_bus.h"
#include "drive/credcache.h"
#include "util/id.h"
#include "util/log.h"

#define CRED_BUS_PAYLOAD 63   /* a user id, with room to spare */

static db_listen_thread_t *cred_bus_listen;

static void cred_bus_heard(const char *payload, void *arg)
{
  (void)arg;
  if(id_valid(payload))
    credcache_forget_user(payload);
}

/* Revocations sent while the connection was lost never reached us: trust
 * nothing cached. */
static void cred_bus_back(void *arg)
{
  (void)arg;
  credcache_clear();
  log_info("webdav: credential cache emptied after the notification connection came back");
}

static const struct db_listen_ops cred_bus_ops = {cred_bus_heard, cred_bus_back};

int cred_bus_start(void)
{
  return db_listen_start("LISTEN netradrive_creds", CRED_BUS_PAYLOAD, &cred_bus_ops, NULL,
                         &cred_bus_listen);
}

void cred_bus_stop(void)
{
  db_listen_stop(cred_bus_listen);
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
