/* render: API §2 objects as JSON. */
#include <stdlib.h>
#include <string.h>
#include "api/render.h"
#include "util/timefmt.h"

/* An RFC 3339 timestamp string. */
static json_t *render_time(int64_t ms)
{
  char ts[32];
  time_rfc3339(ms, ts);
  return json_string(ts);
}

/* A string that is "" for "none" becomes JSON null. */
static json_t *render_opt_str(const char *s)
{
  return s && *s ? json_string(s) : json_null();
}

json_t *render_folder(const struct folder *f)
{
  return json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:I,s:o,s:o,s:b,s:b,s:o}",
                   "_id", f->id,
                   "id", f->id,
                   "type", "folder",
                   "name", f->name,
                   "parent_id", render_opt_str(f->parent_id),
                   "owner_id", f->owner_id,
                   "size", (json_int_t)f->size,
                   "created_at", render_time(f->created_at),
                   "updated_at", render_time(f->updated_at),
                   "is_deleted", (int)f->is_deleted,
                   "is_starred", (int)f->is_starred,
                   "deleted_at", f->is_deleted ? render_time(f->deleted_at) : json_null());
}

/* Appends one node's fields and opens its "children" array: the object's
 * own dump without its closing brace, so no nested json_t is ever built. */
static int render_tree_open(const struct folder *f, buf_t *out)
{
  json_t *o = render_folder(f);
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  if(!text)
    return BUF_NOMEM;
  size_t n = strlen(text);
  int rc = buf_append(out, text, n - 1); /* drop the final '}' */
  if(rc == BUF_OK)
    rc = buf_puts(out, ",\"children\":[");
  free(text);
  return rc;
}

int render_folder_tree(const struct folder_tree *t, buf_t *out)
{
  /* stack[i] is the open node at depth i; its next sibling comes after it. */
  size_t *stack = NULL, depth = 0;
  int rc = buf_puts(out, "[");
  if(rc == BUF_OK && t->count) {
    stack = malloc(t->count * sizeof(*stack));
    if(!stack)
      rc = BUF_NOMEM;
  }
  size_t cur = t->first_root;
  bool first = true;
  while(rc == BUF_OK) {
    if(cur != FOLDER_NONE) {
      if(!first)
        rc = buf_puts(out, ",");
      if(rc == BUF_OK)
        rc = render_tree_open(&t->nodes[cur].f, out);
      stack[depth++] = cur;
      cur = t->nodes[cur].first_child;
      first = true;
    }
    else if(depth > 0) {
      rc = buf_puts(out, "]}");
      cur = t->nodes[stack[--depth]].next_sibling;
      first = false;
    }
    else
      break;
  }
  if(rc == BUF_OK)
    rc = buf_puts(out, "]");
  free(stack);
  return rc;
}

json_t *render_folder_path(const struct folder_crumb *crumbs, size_t count)
{
  json_t *arr = json_array();
  for(size_t i = 0; arr && i < count; i++) {
    if(json_array_append_new(arr, json_pack("{s:s,s:s}", "id", crumbs[i].id, "name",
                                            crumbs[i].name)) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  return arr;
}

json_t *render_file(const struct file_rec *f)
{
  return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:o,s:s,s:s,s:o,s:o,s:b,s:b,s:o}",
                   "_id", f->id,
                   "id", f->id,
                   "type", "file",
                   "name", f->name,
                   "mime_type", f->mime_type,
                   "size", (json_int_t)f->size,
                   "folder_id", render_opt_str(f->folder_id),
                   "owner_id", f->owner_id,
                   "hash", f->sha256,
                   "created_at", render_time(f->created_at),
                   "updated_at", render_time(f->updated_at),
                   "is_deleted", (int)f->is_deleted,
                   "is_starred", (int)f->is_starred,
                   "deleted_at", f->is_deleted ? render_time(f->deleted_at) : json_null());
}
