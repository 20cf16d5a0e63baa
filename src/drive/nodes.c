/* nodes: see nodes.h. One thread writes the heartbeat and then runs the
 * takeover hook; both are short queries on its own connection. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "drive/nodes.h"
#include "util/log.h"
#include "util/timefmt.h"

#define NODES_TIMEOUT_DEFAULT_MS 30000

static int64_t nodes_timeout_ms = NODES_TIMEOUT_DEFAULT_MS;
static char nodes_id[ID_LEN + 1];
static char nodes_host[512];   /* hostname|boot id|pid namespace: where a pid means this pid */
static bool nodes_pids_comparable;   /* boot id and pid namespace known */
static bool nodes_registered;
/* Since when this node's heartbeats have gone through without a failure
 * (heartbeat thread only). Others are judged by their heartbeats only once
 * this node has itself been beating for a whole timeout: after a database
 * outage every node's heartbeat is old, and the first node back must give
 * the others time to beat again before calling them dead. */
static bool nodes_healthy;
static int64_t nodes_healthy_since;
static void (*nodes_takeover)(int64_t reaped);
static pthread_t nodes_thread;
static bool nodes_running, nodes_quit;
static pthread_mutex_t nodes_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nodes_cond = PTHREAD_COND_INITIALIZER;

void nodes_configure(int64_t timeout_ms)
{
  if(timeout_ms > 0)
    nodes_timeout_ms = timeout_ms;
}

const char *nodes_self(void)
{
  return nodes_registered ? nodes_id : NULL;
}

/* Reads the first line of `path` into out ("" when it cannot). */
static void nodes_read_line(const char *path, char *out, size_t outsz)
{
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if(!f)
    return;
  if(fgets(out, (int)outsz, f))
    out[strcspn(out, "\n")] = '\0';
  fclose(f);
}

/* Where this process's pids mean something: the host name, the boot (a
 * reboot reuses pids) and the pid namespace (containers sharing a host
 * name do not see each other's pids). */
static void nodes_host_init(void)
{
  char host[256] = "", boot[64], ns[64] = "";
  if(gethostname(host, sizeof(host) - 1) != 0)
    snprintf(host, sizeof(host), "unknown");
  nodes_read_line("/proc/sys/kernel/random/boot_id", boot, sizeof(boot));
  ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
  ns[n > 0 ? n : 0] = '\0';
  snprintf(nodes_host, sizeof(nodes_host), "%s|%s|%s", host, boot, ns);
  /* Without both, two containers under one host name could not be told
   * apart: then nodes are judged by their heartbeat only. */
  nodes_pids_comparable = boot[0] && ns[0];
}

/* False once `pid` (of this host and namespace) has exited: gone, or a
 * zombie its parent has not collected yet. */
static bool nodes_pid_running(int64_t pid)
{
  if(pid <= 0 || kill((pid_t)pid, 0) != 0)
    return pid > 0 && errno == EPERM;
  char path[64], stat[512];
  snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
  nodes_read_line(path, stat, sizeof(stat));
  const char *end = strrchr(stat, ')');   /* "pid (comm) S ...": comm may hold spaces */
  return !(end && end[1] == ' ' && end[2] == 'Z');
}

/* Removes the rows of nodes of this host whose process is gone: a server
 * killed and started again need not wait for NODE_TIMEOUT. */
static int64_t nodes_reap_exited(db_t *db)
{
  char ids[16][ID_LEN + 1];
  int64_t pids[16];
  int n = 0, rc;
  if(!nodes_pids_comparable)
    return 0;
  db_stmt_t *st = db_query(db, "SELECT id, pid FROM nodes WHERE host = $1 AND id <> $2 LIMIT 16",
                           "tt", nodes_host, nodes_id);
  if(!st)
    return DRIVE_DB;
  while(n < 16 && (rc = db_step(st)) == DB_ROW) {
    db_col_copy(st, 0, ids[n], sizeof(ids[n]));
    pids[n++] = db_col_int(st, 1);
  }
  if((rc = drive_stmt_end(st, n == 16 ? DB_DONE : rc)) != DRIVE_OK)
    return rc;
  int64_t reaped = 0;
  for(int i = 0; i < n; i++)
    if(!nodes_pid_running(pids[i]) &&
       db_exec(db, "DELETE FROM nodes WHERE id = $1", "t", ids[i]) == DB_OK)
      reaped += db_changes(db);
  return reaped;
}

int64_t nodes_reap(db_t *db)
{
  if(!nodes_host[0])
    nodes_host_init();
  int64_t n = nodes_reap_exited(db), now = time_now_ms();
  if(n < 0)
    return n;
  /* A tool (gc) has no heartbeat of its own to wait for. */
  bool judge = !nodes_registered ||
               (nodes_healthy && now - nodes_healthy_since >= nodes_timeout_ms);
  if(judge) {
    int rc = db_exec(db, "DELETE FROM nodes WHERE heartbeat_at < $1 AND id <> $2", "it",
                     now - nodes_timeout_ms, nodes_id);
    if(rc != DB_OK)
      return drive_from_db(rc);
    n += db_changes(db);
  }
  if(n > 0)
    log_warn("nodes: %lld node(s) stopped sending heartbeats; their work is taken over",
             (long long)n);
  return n;
}

bool nodes_peers_alive(db_t *db)
{
  int64_t one = 0;
  int rc = db_query_int(db, &one, "SELECT 1 FROM nodes WHERE id <> $1 LIMIT 1", "t", nodes_id);
  return rc != DB_DONE;
}

bool nodes_is_live(db_t *db, const char *id)
{
  int64_t one = 0;
  return id && *id &&
         db_query_int(db, &one, "SELECT 1 FROM nodes WHERE id = $1", "t", id) == DB_ROW;
}

static int nodes_insert(db_t *db)
{
  if(!nodes_host[0])
    nodes_host_init();
  int64_t now = time_now_ms();
  return db_exec(db, "INSERT INTO nodes (id, host, pid, started_at, heartbeat_at) "
                     "VALUES ($1, $2, $3, $4, $4)",
                 "ttii", nodes_id, nodes_host, (int64_t)getpid(), now);
}

/* One heartbeat. A row gone means another node took this one for dead (a
 * heartbeat far too late: a stalled process or database): say so loudly
 * and come back, since what it runs now may have been taken over. */
static void nodes_beat(db_t *db)
{
  int rc = db_exec(db, "UPDATE nodes SET heartbeat_at = $2 WHERE id = $1", "ti", nodes_id,
                   time_now_ms());
  if(rc == DB_OK && db_changes(db) == 0) {
    log_error("nodes: this node (%s) was taken for dead by another (heartbeat later than "
              "NODE_TIMEOUT); work it ran may have been taken over", nodes_id);
    rc = nodes_insert(db);
  }
  if(rc != DB_OK) {
    log_warn("nodes: cannot write the heartbeat (%d); will retry", rc);
    nodes_healthy = false;
  }
  else if(!nodes_healthy) {
    nodes_healthy = true;
    nodes_healthy_since = time_now_ms();
  }
}

static void *nodes_main(void *arg)
{
  (void)arg;
  int64_t every = nodes_timeout_ms / 5 > 0 ? nodes_timeout_ms / 5 : 1;
  pthread_mutex_lock(&nodes_lock);
  while(!nodes_quit) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (every % 1000) * 1000000;
    ts.tv_sec += (time_t)(every / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(&nodes_cond, &nodes_lock, &ts);
    if(nodes_quit)
      break;
    pthread_mutex_unlock(&nodes_lock);
    db_t *db = db_get();
    if(db) {
      nodes_beat(db);
      int64_t reaped = nodes_reap(db);
      if(reaped >= 0 && nodes_takeover)
        nodes_takeover(reaped);
    }
    pthread_mutex_lock(&nodes_lock);
  }
  pthread_mutex_unlock(&nodes_lock);
  return NULL;
}

int nodes_start(void (*takeover)(int64_t reaped))
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  id_new(nodes_id);
  int rc = drive_db(nodes_insert(db));
  if(rc != DRIVE_OK)
    return rc;
  nodes_registered = true;
  nodes_healthy = true;
  nodes_healthy_since = time_now_ms();
  /* SQLite has one server by construction: any other row is a previous
   * process's (a container restarted under another host name, say). */
  if(db_conn_dialect(db) == DB_SQLITE &&
     db_exec(db, "DELETE FROM nodes WHERE id <> $1", "t", nodes_id) != DB_OK)
    log_warn("nodes: cannot forget the rows of previous processes");
  nodes_reap(db);   /* this host's exited processes only, see nodes_healthy */
  nodes_takeover = takeover;
  nodes_quit = false;
  if(pthread_create(&nodes_thread, NULL, nodes_main, NULL) != 0) {
    nodes_stop();
    return DRIVE_INTERNAL;
  }
  nodes_running = true;
  log_info("nodes: this server is node %s", nodes_id);
  return DRIVE_OK;
}

void nodes_stop_heartbeat(void)
{
  if(!nodes_running)
    return;
  pthread_mutex_lock(&nodes_lock);
  nodes_quit = true;
  pthread_cond_signal(&nodes_cond);
  pthread_mutex_unlock(&nodes_lock);
  pthread_join(nodes_thread, NULL);
  nodes_running = false;
}

void nodes_stop(void)
{
  nodes_stop_heartbeat();
  if(!nodes_registered)
    return;
  db_t *db = db_get();
  if(!db || db_exec(db, "DELETE FROM nodes WHERE id = $1", "t", nodes_id) != DB_OK)
    log_warn("nodes: cannot remove this node's row; the others will reap it");
  nodes_registered = false;
}
