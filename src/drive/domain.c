/* domain: see domain.h. */
#include <stdio.h>
#include <unistd.h>
#include "drive/app_passwords.h"
#include "drive/cred_bus.h"
#include "drive/domain.h"
#include "drive/hasher.h"
#include "drive/janitor.h"
#include "drive/mail.h"
#include "drive/mime.h"
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
  DRIVE_STAGE_STORE,
  DRIVE_STAGE_TASKS,
  DRIVE_STAGE_URLJOBS,
  DRIVE_STAGE_JANITOR
};

static enum drive_stage drive_stage;

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
  if(store_init(&o->store, o->background, err, errlen) != 0)
    goto fail;
  drive_stage = DRIVE_STAGE_STORE;
  if(o->background) {
    /* One server per SQLite database: a chunk still staged at start belongs
     * to an upload that died with the previous process, and so does a task
     * still running. A database that cannot be reached now is retried by
     * the sweeper and the janitor later. */
    store_reclaim_staged(time_now_ms());
    /* Documents that landed with no record at all (the process died between
     * the two) show as gaps below a recorded chunk: no upload of this
     * process runs yet, so no grace is needed. */
    orphans_sweep(time_now_ms(), 0);
    /* Its spool files died with it too (kill -9 mid-upload): clear them
     * before the first request can spool a new one. */
    int spooled = blob_spool_clear(store_blob());
    if(spooled > 0)
      log_info("removed %d spool file(s) left by the previous process", spooled);
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
  return 0;
fail:
  drive_shutdown();
  return -1;
}

void drive_shutdown(void)
{
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
