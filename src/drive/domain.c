/* domain: see domain.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "drive/app_passwords.h"
#include "drive/cred_bus.h"
#include "drive/domain.h"
#include "drive/folder_ops.h"
#include "drive/hasher.h"
#include "drive/janitor.h"
#include "drive/mail.h"
#include "drive/mime.h"
#include "drive/nodes.h"
#include "drive/orphans.h"
#include "drive/store.h"
#include "drive/task_bus.h"
#include "drive/tasks.h"
#include "drive/tokens.h"
#include "drive/upload.h"
#include "drive/urljob.h"
#include "drive/users.h"
#include "util/log.h"
#include "util/timefmt.h"

void drive_health(struct drive_health *out)
{
  out->database = db_ping(db_get());
  out->storage = store_blob() && blob_ping(store_blob());
}

/* ---- start and stop ------------------------------------------------------ */

/* How far drive_init got; drive_shutdown undoes exactly that, in reverse. */
enum drive_stage {
  DRIVE_STAGE_NONE = 0,
  DRIVE_STAGE_USERS,    /* tokens + accounts */
  DRIVE_STAGE_MAIL,
  DRIVE_STAGE_HASHER,
  DRIVE_STAGE_NODES,
  DRIVE_STAGE_STORE,
  DRIVE_STAGE_TASKS,
  DRIVE_STAGE_URLJOBS,
  DRIVE_STAGE_JANITOR
};

static enum drive_stage drive_stage;
static atomic_bool drive_taking_over;   /* the server runs: takeover may act */

/* A spool file is kept while its owner (a node id) lives. */
static bool drive_spool_live(const char *owner, void *arg)
{
  const char *self = nodes_self();
  return *owner && ((self && !strcmp(owner, self)) || nodes_is_live(arg, owner));
}

/* Removes the spool files of dead nodes (DATA_DIR/tmp may be shared). */
static void drive_spool_sweep(void)
{
  db_t *db = db_get();
  int spooled = db ? blob_spool_clear(store_blob(), drive_spool_live, db) : 0;
  if(spooled > 0)
    log_info("removed %d spool file(s) of stopped server processes", spooled);
}

/* After each heartbeat (nodes.c): what dead nodes left running is taken
 * over (URL jobs) or ended (other tasks, staged chunks, spool files). */
static void drive_takeover(int64_t reaped)
{
  if(!atomic_load(&drive_taking_over))
    return;
  urljobs_take_over();
  tasks_take_over("Interrupted: the server node running it stopped");
  if(store_reclaim_staged(time_now_ms(), false) == DRIVE_OK && reaped > 0)
    store_kick();
  if(reaped > 0)
    drive_spool_sweep();
}

int drive_init(const struct drive_options *o, char *err, size_t errlen)
{
  tokens_init(o->secret_key, o->access_ttl_s, o->refresh_ttl_s);
  app_passwords_init(o->secret_key);
  struct users_options uo = {
    .login_max_failures = o->login_max_failures,
    .login_window_s = o->login_window_s,
    .addr_max_requests = o->addr_max_requests,
    .addr_window_s = o->addr_window_s,
    .public_url = o->public_url,
    /* Verification needs a way to deliver the link: without SMTP it is off. */
    .require_verification = o->smtp_url && o->require_verification,
  };
  struct upload_options up = {
    .max_size = o->max_upload_size,
    .dedup_reject = o->dedup_reject,
  };
  upload_init(&up);
  folder_ops_configure(o->bin_batch_folders, o->bin_batch_ms, o->bin_batch_pause_ms);
  if(users_init(&uo) != 0) {
    snprintf(err, errlen, "users: cannot initialise (out of memory?)");
    goto fail;
  }
  drive_stage = DRIVE_STAGE_USERS;
  if(o->background && mail_start(o->smtp_url, o->smtp_from, err, errlen) != 0)
    goto fail;
  drive_stage = DRIVE_STAGE_MAIL;
  /* Chunk hashes, off the request threads: one thread per core, a few at most. */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if(hasher_start(cores > 0 ? (int)cores : 1) != 0) {
    snprintf(err, errlen, "cannot start the chunk hasher threads");
    goto fail;
  }
  drive_stage = DRIVE_STAGE_HASHER;
  /* A node before anything it owns is written (staged chunks, tasks). */
  if(o->background) {
    nodes_configure(o->node_timeout_ms);
    if(nodes_start(drive_takeover) != DRIVE_OK) {
      snprintf(err, errlen, "cannot register this server in the database (nodes)");
      goto fail;
    }
  }
  drive_stage = DRIVE_STAGE_NODES;
  if(store_init(&o->store, o->background, err, errlen) != 0)
    goto fail;
  drive_stage = DRIVE_STAGE_STORE;
  if(o->background) {
    blob_spool_set_owner(store_blob(), nodes_self());
    /* A chunk still staged at start by a dead node (a previous process, a
     * stopped peer: nodes.h) belongs to an upload that died with it, and so
     * does a task it still runs; a live peer's are left alone. A database
     * that cannot be reached now is retried by the takeover later. */
    store_reclaim_staged(time_now_ms(), false);
    /* Documents that landed with no record at all (the process died between
     * the two) show as gaps below a recorded chunk: with no other node
     * running, no upload runs yet, so no grace is needed; a live peer's
     * puts may be landing right now, so then only past the grace. */
    db_t *db = db_get();
    orphans_sweep(time_now_ms(), db && !nodes_peers_alive(db) ? 0 : ORPHANS_GRACE_MS);
    /* Dead nodes' spool files died with them (kill -9 mid-upload): clear
     * them before the first request can spool a new one. */
    drive_spool_sweep();
    store_kick();   /* the sweeper removes them now, not at its next round */
    tasks_init();
    /* After tasks_init, before any task starts: tasks of several nodes. */
    if(task_bus_start() != 0) {
      snprintf(err, errlen, "cannot start the task notification threads");
      goto fail;
    }
    if(cred_bus_start() != 0) {
      snprintf(err, errlen, "cannot start the credential notification thread");
      goto fail;
    }
  }
  drive_stage = DRIVE_STAGE_TASKS;
  if(o->background) {
    struct urljob_options uj = o->urljobs;
    uj.max_size = o->max_upload_size;
    /* After tasks_init: a job it failed may be resumed (its task revived). */
    if(urljobs_init(&uj) != 0) {
      snprintf(err, errlen, "cannot start the URL download thread");
      goto fail;
    }
  }
  drive_stage = DRIVE_STAGE_URLJOBS;
  if(o->background && janitor_start(o->bin_retention_days) != 0) {
    snprintf(err, errlen, "cannot start the janitor thread");
    goto fail;
  }
  drive_stage = DRIVE_STAGE_JANITOR;
  atomic_store(&drive_taking_over, o->background);
  return 0;
fail:
  drive_shutdown();
  return -1;
}

void drive_shutdown(void)
{
  atomic_store(&drive_taking_over, false);
  nodes_stop_heartbeat();   /* no takeover runs while the rest stops */
  switch(drive_stage) {
  case DRIVE_STAGE_JANITOR:
    janitor_stop();
    /* fall through */
  case DRIVE_STAGE_URLJOBS:
    urljobs_shutdown();   /* before the store: their uploads let go first */
    /* fall through */
  case DRIVE_STAGE_TASKS:
  case DRIVE_STAGE_STORE:
    hasher_stop();      /* chunks already queued still reach the store */
    store_shutdown();   /* the last put outcomes release their uploads' tasks */
    cred_bus_stop();
    task_bus_stop();
    tasks_shutdown();
    /* fall through */
  case DRIVE_STAGE_NODES:
    nodes_stop();   /* last: peers take over what is left only now */
    /* fall through */
  case DRIVE_STAGE_HASHER:
    hasher_stop();      /* a no-op when stopped above */
    /* fall through */
  case DRIVE_STAGE_MAIL:
    /* Give queued mail (a verification link just promised) a moment to leave. */
    mail_stop(5000);
    /* fall through */
  case DRIVE_STAGE_USERS:
    users_shutdown();
    /* fall through */
  case DRIVE_STAGE_NONE:
    break;
  }
  mime_shutdown();
  drive_stage = DRIVE_STAGE_NONE;
}
