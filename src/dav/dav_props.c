/* dav_props: PROPPATCH and the dead properties in PROPFIND answers. A dead
 * property keeps the text of its element (child markup is not kept). Of the
 * live DAV: properties only a file's getlastmodified can be set (its mtime);
 * any other makes the request fail (it 403, the rest 424, nothing changed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dav/dav_lock.h"
#include "dav/dav_priv.h"
#include "dav/dav_props.h"
#include "dav/dav_xml.h"
#include "drive/davprops.h"
#include "http/range.h"

#define NS_DAV "DAV:"
#define PP_MAX 256   /* properties in one PROPPATCH */

/* The one live property a client may set: a file's getlastmodified (its
 * mtime, as a sync tool keeps it). 1 when `p` is that and is valid. */
static int pp_mtime(const struct dav_ctx *c, const struct dav_xnode *p, bool set, int64_t *ms)
{
  int64_t secs;
  if(!set || c->item.kind != DAV_FILE || strcmp(p->name, "getlastmodified") || !p->text.data ||
     range_date_parse(p->text.data, &secs) != 0)
    return 0;
  *ms = secs * 1000;
  return 1;
}

/* An element in its namespace; the empty namespace needs the default
 * declaration (a prefix cannot be bound to ""). */
static void prop_elem(buf_t *b, const char *ns, const char *name, const char *value)
{
  const char *pfx = ns[0] ? "X:" : "";
  buf_printf(b, "<%s", pfx);
  dav_xml_text(b, name);
  buf_printf(b, " xmlns%s=\"", ns[0] ? ":X" : "");
  dav_xml_text(b, ns);
  buf_puts(b, "\"");
  if(!value) {
    buf_puts(b, "/>");
    return;
  }
  buf_puts(b, ">");
  dav_xml_text(b, value);
  buf_printf(b, "</%s", pfx);
  dav_xml_text(b, name);
  buf_puts(b, ">");
}

static int each_full(void *arg, const char *ns, const char *name, const char *value)
{
  prop_elem(arg, ns, name, value);
  return 0;
}

static int each_name(void *arg, const char *ns, const char *name, const char *value)
{
  (void)value;
  prop_elem(arg, ns, name, NULL);
  return 0;
}

static int each_found(void *arg, const char *ns, const char *name, const char *value)
{
  void **a = arg;
  prop_elem(a[0], ns, name, value);
  *(int *)a[1] = 0;
  return 0;
}

void dav_props_all(const char *user_id, const char *item_id, buf_t *b)
{
  davprops_each(user_id, item_id ? item_id : "", NULL, NULL, each_full, b);
}

void dav_props_names(const char *user_id, const char *item_id, buf_t *b)
{
  davprops_each(user_id, item_id ? item_id : "", NULL, NULL, each_name, b);
}

int dav_props_one(const char *user_id, const char *item_id, const char *ns, const char *name,
                  buf_t *b)
{
  int missing = 1;
  void *a[2] = {b, &missing};
  davprops_each(user_id, item_id ? item_id : "", ns, name, each_found, a);
  return missing;
}

int dav_proppatch(struct http_req *r, struct dav_ctx *c)
{
  struct dav_xnode *root = NULL;
  const char *ns[PP_MAX], *name[PP_MAX], *value[PP_MAX];
  size_t n = 0;
  bool live = false;
  int64_t mtime = 0;
  int rc = dav_resolve(c->user.id, r->path, &c->item);
  if(rc == DRIVE_OK && c->item.kind == DAV_NONE)
    rc = DRIVE_NOT_FOUND;
  if(rc != DRIVE_OK)
    return dav_reply_drive(r, rc == DRIVE_INVALID ? DRIVE_NOT_FOUND : rc);
  if(!dav_lock_allows(r, c, c->item.path, false, false))
    return 0;
  if(dav_xml_parse(c->body.data ? c->body.data : "", c->body.len, &root) != 0 ||
     !dav_xml_is(root, NS_DAV, "propertyupdate")) {
    dav_xml_free(root);
    return dav_reply_status(r, HTTP_BAD_REQUEST);
  }
  for(struct dav_xnode *op = root->child; op; op = op->next) {
    bool set = dav_xml_is(op, NS_DAV, "set");
    if(!set && !dav_xml_is(op, NS_DAV, "remove"))
      continue;
    struct dav_xnode *prop = dav_xml_child(op, NS_DAV, "prop");
    for(struct dav_xnode *p = prop ? prop->child : NULL; p && n < PP_MAX; p = p->next) {
      if(!strcmp(p->ns, NS_DAV) && pp_mtime(c, p, set, &mtime))
        continue;
      if(!strcmp(p->ns, NS_DAV))
        live = true;
      ns[n] = p->ns;
      name[n] = p->name;
      value[n] = set ? (p->text.data ? p->text.data : "") : NULL;
      n++;
    }
  }
  const char *item = c->item.kind == DAV_FOLDER ? c->item.fo.id
                     : c->item.kind == DAV_FILE ? c->item.fi.id : "";
  if(!live && (rc = davprops_apply(c->user.id, item, n, ns, name, value)) == DRIVE_OK && mtime)
    rc = davfs_set_mtime(c->user.id, item, mtime);
  if(!live && rc != DRIVE_OK) {
    dav_xml_free(root);
    return dav_reply_drive(r, rc);
  }
  buf_t b;
  buf_init(&b, (size_t)16 << 20);
  buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">"
               "<D:response><D:href>");
  dav_href(&b, c->item.path, c->item.kind != DAV_FILE);
  buf_puts(&b, "</D:href>");
  if(mtime)
    buf_printf(&b, "<D:propstat><D:prop><D:getlastmodified/></D:prop><D:status>HTTP/1.1 %s"
                   "</D:status></D:propstat>", live ? "424 Failed Dependency" : "200 OK");
  for(size_t i = 0; i < n; i++) {
    const char *st = !live ? "200 OK" : !strcmp(ns[i], NS_DAV) ? "403 Forbidden"
                                                                : "424 Failed Dependency";
    buf_puts(&b, "<D:propstat><D:prop>");
    prop_elem(&b, ns[i], name[i], NULL);
    buf_printf(&b, "</D:prop><D:status>HTTP/1.1 %s</D:status></D:propstat>", st);
  }
  buf_puts(&b, "</D:response></D:multistatus>\n");
  dav_xml_free(root);
  return dav_reply_xml(r, 207, &b);
}
