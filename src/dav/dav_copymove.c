/* dav_copymove: COPY and MOVE (RFC 4918 §9.8, §9.9). The Destination must
 * be on this host and under /dav/. COPY of a file references the same
 * content (no bytes move); of a folder it is recursive (Depth: infinity)
 * or the folder alone (Depth: 0). An overwritten destination goes to the
 * bin, as a DELETE would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "dav/dav_lock.h"
#include "dav/dav_priv.h"
#include "drive/davprops.h"
#include "drive/files.h"
#include "drive/folders.h"
#include "util/grow.h"

static int unhex(int ch)
{
  if(ch >= '0' && ch <= '9') return ch - '0';
  if(ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if(ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* The Destination as a decoded path ("/dav/..."): 0, or the status to
 * answer (400 malformed, 502 another host, 403 outside /dav). */
static unsigned dest_path(struct http_req *r, char *out, size_t outsz)
{
  const char *d = http_header(r, "Destination");
  if(!d || !*d)
    return HTTP_BAD_REQUEST;
  const char *p = d;
  const char *scheme = strstr(d, "://");
  if(scheme) {
    const char *host = scheme + 3;
    const char *slash = strchr(host, '/');
    size_t hl = slash ? (size_t)(slash - host) : strlen(host);
    const char *mine = http_header(r, HTTP_HEADER_HOST);
    if(!mine || strlen(mine) != hl || strncasecmp(mine, host, hl) != 0)
      return HTTP_BAD_GATEWAY;
    p = slash ? slash : "/";
  }
  size_t k = 0;
  for(; *p && *p != '?' && *p != '#'; p++) {
    int ch = (unsigned char)*p;
    if(ch == '%') {
      int hi = unhex((unsigned char)p[1]), lo = hi >= 0 ? unhex((unsigned char)p[2]) : -1;
      if(lo < 0 || (hi | lo) == 0)
        return HTTP_BAD_REQUEST;
      ch = hi * 16 + lo;
      p += 2;
    }
    if(k + 1 >= outsz)
      return HTTP_BAD_REQUEST;
    out[k++] = (char)ch;
  }
  out[k] = 0;
  http_path_normalize(out);
  size_t n = strlen(DAV_PREFIX);
  if(strncmp(out, DAV_PREFIX, n) != 0 || (out[n] && out[n] != '/'))
    return HTTP_FORBIDDEN;
  return 0;
}

struct kid {
  bool is_folder;
  char id[ID_LEN + 1];
  char name[NAME_MAX_BYTES + 1];
};

struct kids {
  struct kid *v;
  size_t n, cap;
};

static int collect(const struct davfs_entry *e, void *arg)
{
  struct kids *k = arg;
  struct kid *m = grow_room(k->v, &k->cap, k->n, sizeof(*m), 32);
  if(!m)
    return DRIVE_INTERNAL;
  k->v = m;
  struct kid *x = &k->v[k->n++];
  x->is_folder = e->is_folder;
  snprintf(x->id, sizeof(x->id), "%.22s", e->is_folder ? e->fo.id : e->fi.id);
  snprintf(x->name, sizeof(x->name), "%s", e->is_folder ? e->fo.name : e->fi.name);
  return 0;
}

/* Copies folder `src_id` into `parent` as `name`; below it too with `deep`. */
static int copy_folder(const char *user, const char *src_id, const char *parent, const char *name,
                       bool deep, int level)
{
  struct folder fo;
  struct file_rec fi;
  const char *why = NULL;
  struct kids k = {0};
  if(level > DAV_DEPTH_MAX * 4)
    return DRIVE_INVALID;
  int rc = folder_create(user, parent, name, &fo, &why);
  if(rc == DRIVE_OK)
    davprops_copy(user, src_id, fo.id);
  if(rc != DRIVE_OK || !deep)
    return rc;
  rc = davfs_children(user, src_id, collect, &k);
  for(size_t i = 0; rc == DRIVE_OK && i < k.n; i++) {
    if(k.v[i].is_folder)
      rc = copy_folder(user, k.v[i].id, fo.id, k.v[i].name, true, level + 1);
    else if((rc = davfs_copy_file(user, k.v[i].id, fo.id, k.v[i].name, &fi, &why)) == DRIVE_OK)
      davprops_copy(user, k.v[i].id, fi.id);
  }
  free(k.v);
  return rc;
}

/* MOVE: a new parent and/or a new name for the item. */
static int move_item(const char *user, const struct dav_item *src, const struct dav_item *dst)
{
  const char *why = NULL, *missing = NULL;
  const char *np = dav_parent(dst);
  const char *op = dav_parent(src);
  bool reparent = (np ? np : "")[0] != (op ? op : "")[0] || strcmp(np ? np : "", op ? op : "");
  bool rename = strcmp(src->kind == DAV_FILE ? src->fi.name : src->fo.name, dst->name) != 0;
  int rc = DRIVE_OK;
  if(src->kind == DAV_FILE) {
    struct file_rec f;
    if(reparent)
      rc = file_move(user, src->fi.id, np, &f, &missing);
    if(rc == DRIVE_OK && rename)
      rc = file_rename(user, src->fi.id, dst->name, &f, &why);
    return rc;
  }
  struct folder fo;
  if(rename && reparent) {
    /* Rename where it is, then move; if the name clashes there, the other way. */
    rc = folder_rename(user, src->fo.id, dst->name, &fo, &why);
    if(rc == DRIVE_OK)
      return folder_move(user, src->fo.id, np, &fo, &why);
    if(rc != DRIVE_CONFLICT)
      return rc;
    rc = folder_move(user, src->fo.id, np, &fo, &why);
    return rc == DRIVE_OK ? folder_rename(user, src->fo.id, dst->name, &fo, &why) : rc;
  }
  if(reparent)
    return folder_move(user, src->fo.id, np, &fo, &why);
  if(rename)
    return folder_rename(user, src->fo.id, dst->name, &fo, &why);
  return DRIVE_OK;
}

/* The change itself (on the pool for folders): the target binned when it
 * existed, then the move or the copy. */
static int copymove_job(struct dav_ctx *c)
{
  struct dav_item *src = &c->item, *dst = c->dst;
  int rc = DRIVE_OK;
  if(c->existed && (rc = dav_bin_item(c->user.id, dst)) != DRIVE_OK)
    return rc;
  if(c->move)
    return move_item(c->user.id, src, dst);
  if(src->kind == DAV_FILE) {
    struct file_rec fi;
    const char *why = NULL;
    rc = davfs_copy_file(c->user.id, src->fi.id, dav_parent(dst), dst->name, &fi, &why);
    if(rc == DRIVE_OK)
      davprops_copy(c->user.id, src->fi.id, fi.id);
    return rc;
  }
  return copy_folder(c->user.id, src->fo.id, dav_parent(dst), dst->name, c->deep, 0);
}

static int copymove_reply(struct http_req *r, struct dav_ctx *c)
{
  int rc = c->job_rc;
  if(rc == DRIVE_OK) {
    if(c->move)
      dav_lock_drop_tree(c->user.id, c->item.path);
    return dav_reply_status(r, c->existed ? HTTP_NO_CONTENT : HTTP_CREATED);
  }
  if(rc == DRIVE_INVALID)
    return dav_reply_status(r, HTTP_FORBIDDEN);
  return dav_reply_drive(r, rc == DRIVE_NOT_FOUND ? DRIVE_CONFLICT : rc);
}

int dav_copymove(struct http_req *r, struct dav_ctx *c, bool move)
{
  char dpath[DAV_PATH_MAX];
  struct dav_item *src = &c->item, *dst = calloc(1, sizeof(*dst));
  int rc = dst ? dav_resolve(c->user.id, r->path, src) : DRIVE_INTERNAL;
  unsigned status = 0;
  if(rc == DRIVE_OK && src->kind == DAV_NONE)
    rc = DRIVE_NOT_FOUND;
  if(rc != DRIVE_OK) {
    free(dst);
    return dav_reply_drive(r, rc == DRIVE_INVALID ? DRIVE_NOT_FOUND : rc);
  }
  const char *depth = http_header(r, "Depth");
  const char *ow = http_header(r, "Overwrite");
  bool deep = !depth || !strcasecmp(depth, "infinity");
  if((depth && !deep && strcmp(depth, "0")) || (move && !deep && src->kind != DAV_FILE) ||
     (ow && strcasecmp(ow, "T") && strcasecmp(ow, "F")))
    status = HTTP_BAD_REQUEST;
  else if(src->kind == DAV_ROOT)
    status = HTTP_FORBIDDEN;
  else
    status = dest_path(r, dpath, sizeof(dpath));
  if(!status) {
    rc = dav_resolve(c->user.id, dpath, dst);
    if(rc == DRIVE_NOT_FOUND)
      status = HTTP_CONFLICT;
    else if(rc == DRIVE_INVALID || (rc == DRIVE_OK && dst->kind == DAV_ROOT))
      status = HTTP_FORBIDDEN;
    else if(rc != DRIVE_OK) {
      free(dst);
      return dav_reply_drive(r, rc);
    }
  }
  /* Onto itself, or a folder into its own subtree. */
  size_t sl = strlen(src->path);
  if(!status && (!strcmp(src->path, dst->path) ||
                 (src->kind == DAV_FOLDER && !strncmp(dst->path, src->path, sl) &&
                  dst->path[sl] == '/')))
    status = HTTP_FORBIDDEN;
  bool existed = !status && dst->kind != DAV_NONE;
  if(existed && ow && !strcasecmp(ow, "F"))
    status = HTTP_PRECONDITION_FAILED;
  if(status) {
    free(dst);
    return dav_reply_status(r, status);
  }
  if((move && !dav_lock_allows(r, c, src->path, true, true)) ||
     !dav_lock_allows(r, c, dst->path, true, true)) {
    free(dst);
    return 0;
  }
  c->dst = dst;
  c->move = move;
  c->deep = deep;
  c->existed = existed;
  /* A folder copied, moved or overwritten may be a big tree (a copy writes
   * every row of it; an overwrite bins it in batches): on the pool. */
  if(src->kind == DAV_FOLDER || (existed && dst->kind == DAV_FOLDER))
    return dav_defer(r, c, copymove_job, copymove_reply);
  c->job_rc = copymove_job(c);
  return copymove_reply(r, c);
}
