/* folder_tree: the owner's live folders as a tree, walked depth first so
 * a reply streams with memory bounded by the walk's state, not the tree.
 * When every live folder of the owner has its stored key, the walk is one
 * range read in key order (folder_tree_keyed.c); otherwise, two
 * strategies, each the faster on its engine (docs/PERFORMANCE.md):
 * SQLite reads a page of siblings per query, each level of the walk holding
 * one page (a query is a function call there); PostgreSQL sorts the whole
 * walk in one query (folder_sql.h TREE_PG_DECLARE) read through a cursor a
 * page at a time, so a round trip serves hundreds of folders; the cursor
 * lives on a connection of the walk's own, since the walk is opened on one
 * thread (the http_defer pool) and read on another (the poll thread). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/folder_tree_keyed.h"
#include "drive/folder_sql.h"
#include "drive/folders.h"
#include "util/id.h"
#include "util/log.h"
#include "util/metric_list.h"
#include "util/grow.h"

/* Rows read per statement, and folders of a level whose children one
 * statement reads. Each level holds one batch, its room grown to what the
 * level needed (a 10,000-deep chain holds one row a level). */
#define TREE_PAGE 128

struct tree_row {
  struct folder f;
  size_t parent;                  /* its parent's place in the level above */
};

/* One level of the SQLite walk: a batch of the children of the folders of
 * the level above (the roots at the top), grouped by their parent's place
 * there, each group in name_key order. The next batch starts at the
 * parent `next` of the level above, after the key `last_key`. A level
 * whose batch is replaced starts its child level afresh. */
struct tree_level {
  struct tree_row *rows;
  size_t n, pos, room;
  size_t next;
  char last_key[NAME_MAX_BYTES + 1];
  bool complete;                  /* no child of the level above left to read */
};

/* PostgreSQL: one cursor WITH HOLD, walking the subtree below the folder
 * at depth `base` (0: the whole drive) TREE_PG_LEVELS levels deep. */
struct tree_pg_cursor {
  char name[32];
  db_stmt_t *page;      /* the last FETCH's rows not walked yet; NULL: none */
  int64_t fetched;      /* rows of that page read so far */
  bool exhausted;       /* a FETCH came back short: nothing left */
  int64_t base;
};

struct folder_tree_cursor {
  char owner[FOLDER_OWNER_MAX];
  bool done;
  bool keyed;                     /* the stored order: one range read */
  struct tree_keyed k;
  bool sorted;                    /* PostgreSQL: the sorted query */
  /* SQLite: the levels of the walk; levels[depth - 1] is being walked. */
  struct tree_level *levels;
  size_t depth, cap;
  /* PostgreSQL: the walk's own connection and its cursors (one unless the
   * tree is deeper than a cursor goes); folders open. */
  db_t *db;
  struct tree_pg_cursor *cursors;
  size_t ncursors, cursors_cap;
  size_t open;
};

void folder_tree_row(db_stmt_t *st, const char *owner, struct folder *f)
{
  db_col_copy(st, 0, f->id, sizeof(f->id));
  db_col_copy(st, 1, f->parent_id, sizeof(f->parent_id));
  db_col_copy(st, 2, f->name, sizeof(f->name));
  f->size = db_col_int(st, 3);
  f->is_starred = db_col_int(st, 4) != 0;
  f->created_at = db_col_int(st, 5);
  f->updated_at = db_col_int(st, 6);
  memcpy(f->owner_id, owner, sizeof(f->owner_id));
  f->trashed_with[0] = 0;
  f->is_deleted = false;
  f->deleted_at = 0;
}

/* Forgets a level's batch: its next read starts at the first parent. */
static void tree_level_reset(struct tree_level *l)
{
  l->n = l->pos = l->next = 0;
  l->last_key[0] = 0;
  l->complete = false;
}

/* Appends a row's room to level l; NULL when out of memory. */
static struct tree_row *tree_level_add(struct tree_level *l)
{
  struct tree_row *nr = grow_room(l->rows, &l->room, l->n, sizeof(*nr), 1);
  if(!nr)
    return NULL;
  l->rows = nr;
  return &l->rows[l->n++];
}

/* The ids of up to TREE_PAGE folders of level `up` from its row `from`, as
 * a JSON array (an id needs no escaping: id_valid's alphabet); returns the
 * row after the last one written, 0 when it does not fit. */
static size_t tree_window(const struct tree_level *up, size_t from, char *json, size_t cap)
{
  size_t end = up->n - from > TREE_PAGE ? from + TREE_PAGE : up->n, len = 0;
  json[len++] = '[';
  for(size_t i = from; i < end; i++) {
    size_t n = strlen(up->rows[i].f.id);
    if(len + n + 4 > cap)
      return 0;
    if(i > from)
      json[len++] = ',';
    json[len++] = '"';
    memcpy(json + len, up->rows[i].f.id, n);
    len += n;
    json[len++] = '"';
  }
  if(len + 2 > cap)
    return 0;
  json[len++] = ']';
  json[len] = 0;
  return end;
}

/* Reads the next batch of level k: the roots for k = 0, else the children
 * of the next window of level k - 1's rows, after the last key. */
static int tree_fetch(struct folder_tree_cursor *c, size_t k)
{
  struct tree_level *l = &c->levels[k];
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  char json[TREE_PAGE * (ID_LEN + 3) + 3];
  size_t first = l->next, end = 1;
  db_stmt_t *st;
  if(k == 0)
    st = db_query(db, TREE_SQLITE_ROOTS, "tti", c->owner, l->last_key, (int64_t)TREE_PAGE);
  else {
    if(!(end = tree_window(&c->levels[k - 1], first, json, sizeof(json))))
      return DRIVE_INTERNAL;
    st = db_query(db, TREE_SQLITE_CHILDREN, "ttti", c->owner, json, l->last_key,
                  (int64_t)TREE_PAGE);
  }
  if(!st)
    return DRIVE_DB;
  if(k + 1 < c->cap)
    tree_level_reset(&c->levels[k + 1]); /* its batch was of the rows replaced */
  l->n = l->pos = 0;
  int rc;
  while((rc = db_step(st)) == DB_ROW) {
    struct tree_row *r = tree_level_add(l);
    if(!r) {
      rc = DB_ERROR;
      break;
    }
    folder_tree_row(st, c->owner, &r->f);
    r->parent = first + (size_t)db_col_int(st, 8);
    const char *key = db_col_text(st, 7);
    /* The pinned plan gives the order (folder_sql.h); a row out of it
     * would break the tree: refuse rather than send it. */
    const struct tree_row *prev = l->n > 1 ? &l->rows[l->n - 2] : NULL;
    if(!key || r->parent >= end ||
       (prev && (r->parent < prev->parent ||
                 (r->parent == prev->parent && strcmp(key, l->last_key) <= 0)))) {
      log_error("folders: a batch of the tree came out of order");
      rc = DB_ERROR;
      break;
    }
    size_t klen = strlen(key);
    if(klen >= sizeof(l->last_key)) {
      rc = DB_ERROR;
      break;
    }
    memcpy(l->last_key, key, klen + 1);
  }
  rc = drive_stmt_end(st, rc);
  if(rc != DRIVE_OK)
    return rc;
  if(l->n == TREE_PAGE) /* maybe more: go on after the last row */
    l->next = l->rows[l->n - 1].parent;
  else {
    l->next = end;
    l->last_key[0] = 0;
  }
  l->complete = l->next >= (k ? c->levels[k - 1].n : 1);
  return DRIVE_OK;
}

/* Enters the level below: the children of the row being walked. */
static int tree_descend(struct folder_tree_cursor *c)
{
  if(c->depth == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 8;
    struct tree_level *nl = realloc(c->levels, ncap * sizeof(*nl));
    if(!nl)
      return DRIVE_INTERNAL;
    memset(nl + c->cap, 0, (ncap - c->cap) * sizeof(*nl));
    c->levels = nl;
    c->cap = ncap;
  }
  c->depth++;
  return DRIVE_OK;
}

/* SQLite: up to `max` steps of the batched walk. The rows of level k whose
 * parent is the row being walked at level k - 1 are its children; a folder
 * whose group is empty is a leaf, and costs no query of its own. */
static int pages_next(struct folder_tree_cursor *c, size_t max, folder_tree_fn fn, void *arg)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  /* The page's queries share one read transaction: on SQLite each query
   * alone would take and drop the WAL read lock. */
  bool tx = db_read_begin(db) == DB_OK;
  int rc = DRIVE_OK;
  size_t steps = 0;
  while(!c->done && steps < max && rc == DRIVE_OK) {
    size_t k = c->depth - 1;
    struct tree_level *l = &c->levels[k];
    size_t parent = k ? c->levels[k - 1].pos : 0;
    if(l->pos == l->n && !l->complete) {
      rc = tree_fetch(c, k);
      continue;
    }
    if(l->pos < l->n && l->rows[l->pos].parent == parent) {
      steps++;
      if((rc = fn(arg, &l->rows[l->pos].f)) == DRIVE_OK)
        rc = tree_descend(c); /* may move c->levels: l is stale now */
      continue;
    }
    /* The group is over: close its folder, on to the next. */
    if(--c->depth == 0) {
      c->done = true;
      break;
    }
    rc = fn(arg, NULL);
    c->levels[c->depth - 1].pos++;
  }
  if(tx)
    db_read_end(db);
  return rc;
}

/* Trees streaming from PostgreSQL at once, each on a connection of its own
 * (a cursor belongs to the session that declared it, and the walk is opened
 * on the http_defer pool and pulled on a poll thread): at most
 * TREE_PG_STREAMS, so slow readers cannot use up the server's connections,
 * and at most TREE_PG_PER_USER of them one user's, so one user's stalled
 * readers cannot hold every stream until the write timeout. */
#define TREE_PG_STREAMS 16
#define TREE_PG_PER_USER 4

/* Who holds the streams: at most TREE_PG_STREAMS owners, one entry each. */
static pthread_mutex_t tree_pg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char owner[FOLDER_OWNER_MAX];
  int streams;
} tree_pg_users[TREE_PG_STREAMS];
static int tree_pg_total;

/* Takes a stream for `owner`; false when none is free for it. */
static bool tree_pg_take(const char *owner)
{
  bool ok = false;
  pthread_mutex_lock(&tree_pg_lock);
  int at = -1, unused = -1;
  for(int i = 0; i < TREE_PG_STREAMS && at < 0; i++) {
    if(tree_pg_users[i].streams && !strcmp(tree_pg_users[i].owner, owner))
      at = i;
    else if(!tree_pg_users[i].streams && unused < 0)
      unused = i;
  }
  if(at < 0 && unused >= 0) {
    at = unused;
    snprintf(tree_pg_users[at].owner, sizeof(tree_pg_users[at].owner), "%s", owner);
  }
  if(tree_pg_total < TREE_PG_STREAMS && at >= 0 && tree_pg_users[at].streams < TREE_PG_PER_USER) {
    tree_pg_users[at].streams++;
    tree_pg_total++;
    ok = true;
  }
  pthread_mutex_unlock(&tree_pg_lock);
  return ok;
}

static void tree_pg_give(const char *owner)
{
  pthread_mutex_lock(&tree_pg_lock);
  for(int i = 0; i < TREE_PG_STREAMS; i++)
    if(tree_pg_users[i].streams && !strcmp(tree_pg_users[i].owner, owner)) {
      tree_pg_users[i].streams--;
      tree_pg_total--;
      break;
    }
  pthread_mutex_unlock(&tree_pg_lock);
}

/* Rows per FETCH: a page of the reply (about 350 bytes of JSON each). */
#define TREE_FETCH 512

/* Takes one of the TREE_PG_STREAMS connections for this walk. */
static int pg_connect(struct folder_tree_cursor *c)
{
  if(!tree_pg_take(c->owner))
    return DRIVE_THROTTLED; /* 429: try again later */
  if(!(c->db = db_open_own())) {
    tree_pg_give(c->owner);
    return DRIVE_UNAVAILABLE;
  }
  return DRIVE_OK;
}

/* Declares the cursor for the subtree below folder `root` at depth `base`
 * (NULL, 0: the whole drive). The query runs whole here, at COMMIT, which
 * is what keeps a cursor WITH HOLD past its transaction. */
static int pg_declare(struct folder_tree_cursor *c, const char *root, int64_t base)
{
  struct tree_pg_cursor *n = grow_room(c->cursors, &c->cursors_cap, c->ncursors, sizeof(*n), 4);
  if(!n)
    return DRIVE_INTERNAL;
  c->cursors = n;
  struct tree_pg_cursor *k = &c->cursors[c->ncursors];
  *k = (struct tree_pg_cursor){.base = base};
  snprintf(k->name, sizeof(k->name), "netra_tree_%zu", c->ncursors);
  char sql[sizeof(TREE_PG_TOP) + sizeof(k->name) + 8];
  snprintf(sql, sizeof(sql), root ? TREE_PG_SUB : TREE_PG_TOP, k->name);
  /* PG_WALK_SETTINGS: JIT compiled the plan for every tree (half a
   * second, more than the query); a sequential scan per folder walked made
   * a 10,000-wide folder's tree 12-20 s. */
  int rc = db_read_begin(c->db);
  if(rc == DB_OK)
    rc = db_exec(c->db, PG_WALK_SETTINGS, "");
  if(rc == DB_OK)
    rc = root ? db_exec(c->db, sql, "tt", c->owner, root) : db_exec(c->db, sql, "t", c->owner);
  if(rc == DB_OK)
    rc = db_commit(c->db);
  if(rc != DB_OK) {
    db_read_end(c->db);
    return drive_db(rc);
  }
  c->ncursors++;
  return DRIVE_OK;
}

/* Closes the newest cursor. */
static int pg_pop(struct folder_tree_cursor *c)
{
  struct tree_pg_cursor *k = &c->cursors[--c->ncursors];
  db_finalize(k->page);
  k->page = NULL;
  char sql[64];
  snprintf(sql, sizeof(sql), "CLOSE %s", k->name);
  return drive_db(db_exec(c->db, sql, ""));
}

/* Closes folders until `depth` of them are open. */
static int tree_close_to(struct folder_tree_cursor *c, size_t depth, folder_tree_fn fn,
                         void *arg)
{
  int rc = DRIVE_OK;
  while(c->open > depth && rc == DRIVE_OK) {
    c->open--;
    rc = fn(arg, NULL);
  }
  return rc;
}

/* PostgreSQL: up to `max` folders of the sorted walk. */
static int sorted_next(struct folder_tree_cursor *c, size_t max, folder_tree_fn fn, void *arg)
{
  int rc = DRIVE_OK;
  size_t steps = 0;
  while(!c->done && steps < max && rc == DRIVE_OK) {
    if(c->ncursors == 0) {
      rc = tree_close_to(c, 0, fn, arg);
      c->done = rc == DRIVE_OK;
      break;
    }
    struct tree_pg_cursor *k = &c->cursors[c->ncursors - 1];
    if(!k->page) {
      if(k->exhausted) {
        rc = pg_pop(c);
        continue;
      }
      char sql[64];
      snprintf(sql, sizeof(sql), "FETCH FORWARD %d FROM %s", TREE_FETCH, k->name);
      k->fetched = 0;
      if(!(k->page = db_query(c->db, sql, "")))
        return DRIVE_DB;
    }
    int step = db_step(k->page);
    if(step != DB_ROW) {
      k->exhausted = k->fetched < TREE_FETCH;
      rc = drive_stmt_end(k->page, step);
      k->page = NULL;
      continue;
    }
    k->fetched++;
    struct folder f;
    folder_tree_row(k->page, c->owner, &f);
    int64_t depth = k->base + db_col_int(k->page, 7);
    bool deeper = db_col_int(k->page, 8) != 0;
    /* A folder at depth d: close what is open down to its parent's level
     * (a folder moved between two cursors' snapshots may disagree: clamp). */
    rc = tree_close_to(c, depth > 0 ? (size_t)depth - 1 : 0, fn, arg);
    if(rc == DRIVE_OK) {
      c->open++;
      steps++;
      rc = fn(arg, &f);
    }
    if(rc == DRIVE_OK && deeper)
      rc = pg_declare(c, f.id, depth); /* k is stale from here */
  }
  return rc;
}

int folder_tree_open(const char *owner_id, struct folder_tree_cursor **out)
{
  struct folder_tree_cursor *c = calloc(1, sizeof(*c));
  *out = NULL;
  if(!c)
    return DRIVE_INTERNAL;
  snprintf(c->owner, sizeof(c->owner), "%s", owner_id);
  db_t *db = db_get();
  int rc = db ? folder_key_usable(db, c->owner, &c->keyed) : DRIVE_UNAVAILABLE;
  if(!rc) {
    const char *walk[] = {c->keyed ? "keyed" : "walked"};
    metric_inc(&metric_folder_trees, walk);
  }
  if(rc || c->keyed) {
    if(!rc)
      rc = tree_keyed_fetch(&c->k, c->owner);
    if(rc) {
      folder_tree_close(c);
      return rc;
    }
    *out = c;
    return DRIVE_OK;
  }
  c->sorted = db_dialect() == DB_POSTGRES;
  if(c->sorted)
    rc = pg_connect(c);
  if(c->sorted && rc == DRIVE_OK)
    rc = pg_declare(c, NULL, 0);
  else if(!c->sorted)
    rc = tree_descend(c); /* the roots: read by the first pull */
  if(rc) {
    folder_tree_close(c);
    return rc;
  }
  *out = c;
  return DRIVE_OK;
}

bool folder_tree_done(const struct folder_tree_cursor *c)
{
  return c->done;
}

int folder_tree_next(struct folder_tree_cursor *c, size_t max, folder_tree_fn fn, void *arg)
{
  if(c->done)
    return DRIVE_OK;
  if(c->keyed)
    return tree_keyed_next(&c->k, c->owner, max, fn, arg, &c->done);
  return c->sorted ? sorted_next(c, max, fn, arg) : pages_next(c, max, fn, arg);
}

void folder_tree_close(struct folder_tree_cursor *c)
{
  if(!c)
    return;
  for(size_t i = 0; i < c->cap; i++)
    free(c->levels[i].rows);
  for(size_t i = 0; i < c->ncursors; i++) /* the cursors end with the session */
    db_finalize(c->cursors[i].page);
  free(c->cursors);
  tree_keyed_free(&c->k);
  if(c->db) {
    db_close(c->db);
    tree_pg_give(c->owner);
  }
  free(c->levels);
  free(c);
}
