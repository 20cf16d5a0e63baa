/* db_listen: see db_listen.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include "db/db.h"
#include "db/db_listen.h"

struct db_listen_thread {
  db_listener_t *conn;
  const struct db_listen_ops *ops;
  void *arg;
  pthread_t thread;
  atomic_bool running;
  size_t payload_max;
  char payload[];
};

static void *db_listen_main(void *arg)
{
  struct db_listen_thread *t = arg;
  bool lost = false;
  while(atomic_load(&t->running)) {
    int rc = db_listen_wait(t->conn, DB_LISTEN_WAIT_MS, t->payload, t->payload_max);
    if(rc == DB_UNAVAILABLE) {
      lost = true;
      continue;
    }
    if(lost && t->ops->on_back)
      t->ops->on_back(t->arg);
    lost = false;
    if(rc == DB_ROW)
      t->ops->on_payload(t->payload, t->arg);
  }
  return NULL;
}

int db_listen_start(const char *listen_sql, size_t payload_max, const struct db_listen_ops *ops,
                    void *arg, db_listen_thread_t **out)
{
  *out = NULL;
  if(db_dialect() != DB_POSTGRES)
    return 0;
  struct db_listen_thread *t = calloc(1, sizeof(*t) + payload_max + 1);
  if(!t)
    return -1;
  t->ops = ops;
  t->arg = arg;
  t->payload_max = payload_max + 1;
  atomic_init(&t->running, true);
  if(!(t->conn = db_listen_open(listen_sql)) ||
     pthread_create(&t->thread, NULL, db_listen_main, t) != 0) {
    db_listen_close(t->conn);
    free(t);
    return -1;
  }
  *out = t;
  return 0;
}

void db_listen_stop(db_listen_thread_t *t)
{
  if(!t)
    return;
  atomic_store(&t->running, false);
  pthread_join(t->thread, NULL);
  db_listen_close(t->conn);
  free(t);
}
