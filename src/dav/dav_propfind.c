/* dav_propfind: PROPFIND depth 0 and 1 (infinity is refused with
 * propfind-finite-depth, RFC 4918 §9.1), allprop, propname and prop, over
 * the live properties below and the dead ones set with PROPPATCH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "dav/dav_priv.h"
#include "dav/dav_lock.h"
#include "dav/dav_props.h"
#include "dav/dav_xml.h"
#include "drive/content.h"
#include "drive/davlocks.h"
#include "drive/davprops.h"
#include "http/range.h"
#include "util/log.h"
#include "util/timefmt.h"

#define NS_DAV "DAV:"
/* No per-user quota: what a mount shows as free (DECISIONS "WebDAV"). */
#define DAV_QUOTA_FREE ((int64_t)1 << 50)

enum { PF_ALLPROP, PF_PROPNAME, PF_PROP };

/* Appends a string literal without measuring it at run time. */
#define PF_LIT(b, s) buf_append((b), (s), sizeof(s) - 1)

static const char *const live_props[] = {
  "resourcetype", "getcontentlength", "getlastmodified", "creationdate", "getetag",
  "getcontenttype", "displayname", "quota-used-bytes", "quota-available-bytes",
  "supportedlock", "lockdiscovery", NULL,
};

/* A folder's listing streams a page of children at a time (bounded memory,
 * the first bytes out at once); the reply owns this state until it ends. */
#define PF_PAGE 256

struct pf {
  char user_id[ID_LEN + 1];
  int mode;
  struct dav_xnode *root;      /* the parsed request body */
  struct davfs_cursor *cur;    /* depth 1 of a folder: the children to go */
  const struct dav_xnode *want;  /* PF_PROP: the <prop> element */
  buf_t out;
  buf_t ok, missing;           /* one response's propstats, reused */
  struct usage usage;
  bool have_usage;
  struct davlock *locks;       /* the user's locks, read once */
  size_t nlocks;
  char **propped;              /* sorted ids of items with dead properties */
  size_t npropped, cappropped;
  char parent_path[DAV_PATH_MAX];
  int rc;
};

/* Writes the value of live property `name` of the item; 0 when written,
 * 1 when the item has no such property. */
static int pf_live(struct pf *p, buf_t *b, const char *name, const struct davfs_entry *e,
                   const char *path)
{
  bool folder = e->is_folder;
  int64_t created = folder ? e->fo.created_at : e->fi.created_at;
  int64_t updated = folder ? e->fo.updated_at : e->fi.updated_at;
  char t[40];
  if(!strcmp(name, "resourcetype"))
    return (folder ? PF_LIT(b, "<D:resourcetype><D:collection/></D:resourcetype>")
                   : PF_LIT(b, "<D:resourcetype/>")), 0;
  if(!strcmp(name, "displayname")) {
    PF_LIT(b, "<D:displayname>");
    dav_xml_text(b, e->name);
    return PF_LIT(b, "</D:displayname>"), 0;
  }
  if(!strcmp(name, "getlastmodified")) {
    range_date_format(updated / 1000, t);
    PF_LIT(b, "<D:getlastmodified>");
    buf_puts(b, t);
    return PF_LIT(b, "</D:getlastmodified>"), 0;
  }
  if(!strcmp(name, "creationdate")) {
    time_rfc3339(created, t);
    PF_LIT(b, "<D:creationdate>");
    buf_puts(b, t);
    return PF_LIT(b, "</D:creationdate>"), 0;
  }
  if(!strcmp(name, "supportedlock"))
    return PF_LIT(b, "<D:supportedlock><D:lockentry><D:lockscope><D:exclusive/></D:lockscope>"
                       "<D:locktype><D:write/></D:locktype></D:lockentry><D:lockentry>"
                       "<D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/>"
                       "</D:locktype></D:lockentry></D:supportedlock>"), 0;
  if(!strcmp(name, "lockdiscovery")) {
    PF_LIT(b, "<D:lockdiscovery>");
    if(p->nlocks)
      dav_lock_discovery(p->locks, p->nlocks, path, b);
    return PF_LIT(b, "</D:lockdiscovery>"), 0;
  }
  if(folder && (!strcmp(name, "quota-used-bytes") || !strcmp(name, "quota-available-bytes"))) {
    if(!p->have_usage) {
      if(usage_get(p->user_id, &p->usage) != DRIVE_OK)
        memset(&p->usage, 0, sizeof(p->usage));
      p->have_usage = true;
    }
    int64_t used = p->usage.total_bytes;
    if(name[6] == 'u')
      return buf_printf(b, "<D:quota-used-bytes>%lld</D:quota-used-bytes>", (long long)used), 0;
    return buf_printf(b, "<D:quota-available-bytes>%lld</D:quota-available-bytes>",
                      (long long)(DAV_QUOTA_FREE > used ? DAV_QUOTA_FREE - used : 0)), 0;
  }
  if(folder)
    return 1;
  if(!strcmp(name, "getcontentlength"))
    return buf_printf(b, "<D:getcontentlength>%lld</D:getcontentlength>", (long long)e->fi.size), 0;
  if(!strcmp(name, "getetag")) {
    char etag[DAV_ETAG_HEX + 3];
    dav_etag(&e->fi, etag);
    PF_LIT(b, "<D:getetag>");
    buf_puts(b, etag);
    return PF_LIT(b, "</D:getetag>"), 0;
  }
  if(!strcmp(name, "getcontenttype")) {
    PF_LIT(b, "<D:getcontenttype>");
    dav_xml_text(b, e->fi.mime_type);
    return PF_LIT(b, "</D:getcontenttype>"), 0;
  }
  return 1;
}

static bool pf_is_live(const char *name)
{
  for(int i = 0; live_props[i]; i++)
    if(!strcmp(live_props[i], name))
      return true;
  return false;
}

static int cmp_id(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int pf_add_propped(void *arg, const char *id)
{
  struct pf *p = arg;
  if(p->npropped == p->cappropped) {
    size_t cap = p->cappropped ? p->cappropped * 2 : 64;
    char **m = realloc(p->propped, cap * sizeof(*m));
    if(!m)
      return DRIVE_INTERNAL;
    p->propped = m;
    p->cappropped = cap;
  }
  if(!(p->propped[p->npropped] = strdup(id)))
    return DRIVE_INTERNAL;
  p->npropped++;
  return 0;
}

/* True when the item may have dead properties (saves a query per entry). */
static bool pf_has_props(const struct pf *p, const char *id)
{
  return p->npropped && bsearch(&id, p->propped, p->npropped, sizeof(*p->propped), cmp_id);
}

/* One <D:response> for the item at `path`. */
static int pf_response(struct pf *p, const struct davfs_entry *e, const char *path)
{
  buf_t *ok = &p->ok, *missing = &p->missing;
  const char *item_id = e->is_folder ? e->fo.id : e->fi.id;
  buf_reset(ok);
  buf_reset(missing);
  PF_LIT(&p->out, "<D:response><D:href>");
  dav_href(&p->out, path, e->is_folder);
  PF_LIT(&p->out, "</D:href>");
  if(p->mode == PF_PROPNAME) {
    for(int i = 0; live_props[i]; i++) {
      if((!strcmp(live_props[i], "getcontentlength") || !strcmp(live_props[i], "getetag") ||
          !strcmp(live_props[i], "getcontenttype")) && e->is_folder)
        continue;
      if(!strncmp(live_props[i], "quota", 5) && !e->is_folder)
        continue;
      buf_printf(ok, "<D:%s/>", live_props[i]);
    }
    if(pf_has_props(p, item_id))
      dav_props_names(p->user_id, item_id, ok);
  }
  else if(p->mode == PF_ALLPROP) {
    for(int i = 0; live_props[i]; i++)
      if(strncmp(live_props[i], "quota", 5))   /* RFC 4331: not in allprop */
        pf_live(p, ok, live_props[i], e, path);
    if(pf_has_props(p, item_id))
      dav_props_all(p->user_id, item_id, ok);
  }
  else {
    for(const struct dav_xnode *w = p->want->child; w; w = w->next) {
      int miss = 1;
      if(!strcmp(w->ns, NS_DAV) && pf_is_live(w->name))
        miss = pf_live(p, ok, w->name, e, path);
      else if(pf_has_props(p, item_id))
        miss = dav_props_one(p->user_id, item_id, w->ns, w->name, ok);
      if(miss) {
        if(!strcmp(w->ns, NS_DAV))
          buf_printf(missing, "<D:%s/>", w->name);
        else {
          buf_puts(missing, w->ns[0] ? "<X:" : "<");
          dav_xml_text(missing, w->name);
          buf_puts(missing, w->ns[0] ? " xmlns:X=\"" : " xmlns=\"");
          dav_xml_text(missing, w->ns);
          buf_puts(missing, "\"/>");
        }
      }
    }
  }
  /* Appended, not printed with %s: a propstat can be long. */
  if(ok->len || p->mode != PF_PROP) {
    PF_LIT(&p->out, "<D:propstat><D:prop>");
    buf_append(&p->out, ok->data, ok->len);
    PF_LIT(&p->out, "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
  }
  if(missing->len) {
    PF_LIT(&p->out, "<D:propstat><D:prop>");
    buf_append(&p->out, missing->data, missing->len);
    PF_LIT(&p->out, "</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>");
  }
  return PF_LIT(&p->out, "</D:response>") == BUF_OK ? 0 : DRIVE_INTERNAL;
}

static int pf_child(const struct davfs_entry *e, void *arg)
{
  struct pf *p = arg;
  char path[DAV_PATH_MAX];
  int n = snprintf(path, sizeof(path), "%s/%s", strcmp(p->parent_path, "/") ? p->parent_path : "",
                   e->name);
  if(n < 0 || (size_t)n >= sizeof(path))
    return 0;   /* too long to address: left out */
  return pf_response(p, e, path);
}

/* The item as a davfs entry (the root as a folder without an id). */
static void pf_entry(const struct dav_item *it, struct davfs_entry *e)
{
  memset(e, 0, sizeof(*e));
  e->is_folder = it->kind != DAV_FILE;
  if(it->kind == DAV_FOLDER)
    e->fo = it->fo;
  else if(it->kind == DAV_FILE)
    e->fi = it->fi;
  snprintf(e->name, sizeof(e->name), "%s", it->name);
}

static void pf_free(struct pf *p)
{
  if(p->cur)
    davfs_cursor_free(p->cur);
  free(p->cur);
  dav_xml_free(p->root);
  buf_free(&p->out);
  for(size_t i = 0; i < p->npropped; i++)
    free(p->propped[i]);
  free(p->propped);
  free(p->locks);
  buf_free(&p->ok);
  buf_free(&p->missing);
  free(p);
}

static void pf_stream_free(void *cls)
{
  pf_free(cls);
}

/* The next page of children, else the closing tag. */
static int pf_more(void *cls, buf_t *out)
{
  struct pf *p = cls;
  if(davfs_cursor_done(p->cur))
    return PF_LIT(out, "</D:multistatus>\n") == BUF_OK ? 0 : -1;
  if(davfs_cursor_next(p->cur, PF_PAGE, pf_child, p) != DRIVE_OK) {
    log_error("dav: a PROPFIND listing failed mid-reply; the connection is cut");
    return -1;
  }
  return 1;
}

/* 207 with the head already in p->out and the children streamed after
 * it; the first page is read here, so a fault still gets its status. */
static int pf_reply_stream(struct http_req *r, struct pf *p)
{
  int rc = davfs_cursor_next(p->cur, PF_PAGE, pf_child, p);
  if(rc != DRIVE_OK) {
    pf_free(p);
    return dav_reply_drive(r, rc);
  }
  struct http_response *resp = http_response_pages(&p->out, pf_more, p, pf_stream_free);
  if(!resp) {
    pf_free(p);
    return dav_reply_status(r, HTTP_INTERNAL_SERVER_ERROR);
  }
  http_response_header(resp, HTTP_HEADER_CONTENT_TYPE, "application/xml; charset=utf-8");
  return http_reply_response(r, 207, resp);
}

int dav_propfind(struct http_req *r, struct dav_ctx *c)
{
  struct davfs_entry *e = calloc(1, sizeof(*e));   /* big: off the stack */
  struct dav_item *it = &c->item;
  const char *depth = http_header(r, "Depth");
  int d = 1;
  if(!e)
    return dav_reply_status(r, HTTP_INTERNAL_SERVER_ERROR);
  if(depth && !strcmp(depth, "0"))
    d = 0;
  else if(!depth || !strcasecmp(depth, "infinity")) {
    buf_t b;
    buf_init(&b, 4096);
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\">"
                 "<D:propfind-finite-depth/></D:error>");
    free(e);
    return dav_reply_xml(r, HTTP_FORBIDDEN, &b);
  }
  else if(strcmp(depth, "1")) {
    free(e);
    return dav_reply_status(r, HTTP_BAD_REQUEST);
  }
  struct pf *p = calloc(1, sizeof(*p));
  if(!p) {
    free(e);
    return dav_reply_status(r, HTTP_INTERNAL_SERVER_ERROR);
  }
  snprintf(p->user_id, sizeof(p->user_id), "%s", c->user.id);
  p->mode = PF_ALLPROP;
  buf_init(&p->ok, 1 << 20);
  buf_init(&p->missing, 1 << 20);
  buf_init(&p->out, (size_t)1 << 30);
  if(c->body.len) {
    if(dav_xml_parse(c->body.data, c->body.len, &p->root) != 0 ||
       !dav_xml_is(p->root, NS_DAV, "propfind"))
      goto bad;
    if((p->want = dav_xml_child(p->root, NS_DAV, "prop")))
      p->mode = PF_PROP;
    else if(dav_xml_child(p->root, NS_DAV, "propname"))
      p->mode = PF_PROPNAME;
    else if(!dav_xml_child(p->root, NS_DAV, "allprop"))
      goto bad;
  }
  int rc = dav_resolve(c->user.id, r->path, it);
  if(rc == DRIVE_OK && it->kind == DAV_NONE)
    rc = DRIVE_NOT_FOUND;
  if(rc == DRIVE_INVALID)
    rc = DRIVE_NOT_FOUND;
  if(rc == DRIVE_OK && (rc = davlock_list(c->user.id, &p->locks, &p->nlocks)) == DRIVE_OK &&
     (rc = davprops_items(c->user.id, pf_add_propped, p)) == DRIVE_OK && p->npropped)
    qsort(p->propped, p->npropped, sizeof(*p->propped), cmp_id);
  if(rc == DRIVE_OK) {
    PF_LIT(&p->out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">");
    pf_entry(it, e);
    rc = pf_response(p, e, it->path);
  }
  free(e);
  if(rc != DRIVE_OK) {
    pf_free(p);
    return dav_reply_drive(r, rc);
  }
  if(d == 1 && it->kind != DAV_FILE) {
    snprintf(p->parent_path, sizeof(p->parent_path), "%s", it->path);
    if(!(p->cur = malloc(sizeof(*p->cur)))) {
      pf_free(p);
      return dav_reply_status(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    davfs_cursor_init(p->cur, c->user.id, it->kind == DAV_FOLDER ? it->fo.id : NULL);
    return pf_reply_stream(r, p);
  }
  PF_LIT(&p->out, "</D:multistatus>\n");
  rc = dav_reply_xml(r, 207, &p->out);
  pf_free(p);
  return rc;
bad:
  pf_free(p);
  free(e);
  return dav_reply_status(r, HTTP_BAD_REQUEST);
}
