/* dav_lock: write locks (exclusive and shared) on paths, stored in the
 * database (drive/davlocks), and the If: header. A LOCK of an unmapped URL
 * makes an empty file (RFC 4918 §9.10.4). Lock tokens are the user's own:
 * another user's token names no lock here. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "dav/dav_lock.h"
#include "dav/dav_xml.h"
#include "drive/davlocks.h"
#include "util/timefmt.h"

#define NS_DAV "DAV:"
#define LOCK_TIMEOUT_DEFAULT 600
#define LOCK_TIMEOUT_MAX 86400
#define IF_TOKENS_MAX 16

/* True when a lock on `lpath` (infinity or not) covers `path`. */
static bool lock_covers(const struct davlock *l, const char *path)
{
  size_t n = strlen(l->path);
  if(!strcmp(l->path, path))
    return true;
  if(!l->infinity)
    return false;
  if(!strcmp(l->path, "/"))
    return true;
  return !strncmp(l->path, path, n) && path[n] == '/';
}

/* True when `path` is a member of the collection `lpath` locks: its
 * membership is protected even by a depth-0 lock (RFC 4918 §7.3). */
static bool lock_has_member(const struct davlock *l, const char *path)
{
  const char *slash = strrchr(path, '/');
  if(!slash || !strcmp(path, "/"))
    return false;
  size_t n = (size_t)(slash - path);
  if(n == 0)
    return !strcmp(l->path, "/");
  return strlen(l->path) == n && !strncmp(l->path, path, n);
}

/* True when `path` lies strictly below `top`. */
static bool path_below(const char *path, const char *top)
{
  size_t n = strlen(top);
  if(!strcmp(top, "/"))
    return strcmp(path, "/") != 0;
  return !strncmp(path, top, n) && path[n] == '/';
}

/* The path part of a Resource-Tag ("http://h/dav/a" or "/dav/a"),
 * percent-decoded and normalised as dav_resolve writes it. */
static void tag_path(const char *url, size_t n, char *out, size_t outsz)
{
  char tmp[DAV_PATH_MAX];
  const char *p = url, *end = url + n;
  const char *s = memmem(url, n, "://", 3);
  if(s) {
    p = memchr(s + 3, '/', (size_t)(end - s - 3));
    if(!p)
      p = end;
  }
  size_t k = 0;
  for(; p < end && k + 1 < sizeof(tmp); p++) {
    if(*p == '%' && end - p > 2) {
      char h[3] = {p[1], p[2], 0};
      tmp[k++] = (char)strtol(h, NULL, 16);
      p += 2;
    }
    else
      tmp[k++] = *p;
  }
  tmp[k] = 0;
  /* "/dav/a/b/" -> "/a/b" */
  const char *q = !strncmp(tmp, DAV_PREFIX, strlen(DAV_PREFIX)) ? tmp + strlen(DAV_PREFIX) : tmp;
  snprintf(out, outsz, "%s", *q ? q : "/");
  size_t len = strlen(out);
  while(len > 1 && out[len - 1] == '/')
    out[--len] = 0;
}

struct if_eval {
  struct dav_ctx *c;
  const struct davlock *locks;
  size_t nlocks;
  bool member;   /* the request adds or removes `path` in its collection */
  char tokens[IF_TOKENS_MAX][DAVLOCK_TOKEN_MAX];
  int ntokens;
};

static bool if_token_true(struct if_eval *e, const char *tok, const char *path)
{
  for(size_t i = 0; i < e->nlocks; i++)
    if(!strcmp(e->locks[i].token, tok) &&
       (lock_covers(&e->locks[i], path) || (e->member && lock_has_member(&e->locks[i], path))))
      return true;
  return false;
}

static bool if_etag_true(struct if_eval *e, const char *etag, const char *path)
{
  const struct dav_item *it = &e->c->item;
  char want[DAV_ETAG_HEX + 3];
  if(strcmp(it->path, path) || it->kind != DAV_FILE)
    return false;
  dav_etag(&it->fi, want);
  if(!strncmp(etag, "W/", 2))
    etag += 2;
  return !strcmp(etag, want);
}

/* Evaluates an If: header. 1 true, 0 false, -1 malformed. */
static int if_eval(struct if_eval *e, const char *h, const char *path)
{
  char cur[DAV_PATH_MAX], buf[512];
  bool any = false;
  snprintf(cur, sizeof(cur), "%s", path);
  const char *p = h;
  for(;;) {
    while(*p == ' ' || *p == '\t')
      p++;
    if(!*p)
      break;
    if(*p == '<') {
      const char *gt = strchr(p, '>');
      if(!gt)
        return -1;
      tag_path(p + 1, (size_t)(gt - p - 1), cur, sizeof(cur));
      p = gt + 1;
      continue;
    }
    if(*p != '(')
      return -1;
    p++;
    bool list = true, conds = false;
    for(;;) {
      while(*p == ' ' || *p == '\t')
        p++;
      if(*p == ')') {
        p++;
        break;
      }
      bool neg = false;
      if(!strncasecmp(p, "Not", 3)) {
        neg = true;
        p += 3;
        while(*p == ' ')
          p++;
      }
      char open = *p, close = open == '<' ? '>' : open == '[' ? ']' : 0;
      const char *end = close ? strchr(p + 1, close) : NULL;
      if(!end || (size_t)(end - p - 1) >= sizeof(buf))
        return -1;
      memcpy(buf, p + 1, (size_t)(end - p - 1));
      buf[end - p - 1] = 0;
      p = end + 1;
      bool v;
      if(open == '<') {
        v = if_token_true(e, buf, cur);
        size_t tl = strlen(buf);
        if(e->ntokens < IF_TOKENS_MAX && tl < DAVLOCK_TOKEN_MAX)
          memcpy(e->tokens[e->ntokens++], buf, tl + 1);   /* longer: no lock's token */
      }
      else
        v = if_etag_true(e, buf, cur);
      list = list && (neg ? !v : v);
      conds = true;
    }
    if(!conds)
      return -1;
    any = any || list;
  }
  return any ? 1 : 0;
}

static bool token_submitted(const struct if_eval *e, const char *tok)
{
  for(int i = 0; i < e->ntokens; i++)
    if(!strcmp(e->tokens[i], tok))
      return true;
  return false;
}

bool dav_lock_allows(struct http_req *r, struct dav_ctx *c, const char *path, bool tree,
                     bool member)
{
  struct davlock *locks = NULL;
  size_t n = 0;
  int rc = davlock_list(c->user.id, &locks, &n);
  if(rc != DRIVE_OK) {
    dav_reply_drive(r, rc);
    return false;
  }
  struct if_eval *e = calloc(1, sizeof(*e));
  bool ok = e != NULL;
  const char *h = http_header(r, "If");
  if(ok) {
    e->c = c;
    e->locks = locks;
    e->nlocks = n;
    e->member = member;
  }
  if(ok && h) {
    int v = if_eval(e, h, path);
    if(v != 1) {
      dav_reply_status(r, v < 0 ? HTTP_BAD_REQUEST : HTTP_PRECONDITION_FAILED);
      free(e);
      free(locks);
      return false;
    }
  }
  for(size_t i = 0; ok && i < n; i++) {
    bool in_way = lock_covers(&locks[i], path) || (tree && path_below(locks[i].path, path)) ||
                  (member && lock_has_member(&locks[i], path));
    if(in_way && !token_submitted(e, locks[i].token)) {
      dav_reply_status(r, HTTP_LOCKED);
      free(e);
      free(locks);
      return false;
    }
  }
  if(!ok)
    dav_reply_status(r, HTTP_INTERNAL_SERVER_ERROR);
  free(e);
  free(locks);
  return ok;
}

void dav_lock_nullify(const char *user_id, const char *path)
{
  (void)user_id, (void)path;   /* locks hold by path: nothing to convert */
}

void dav_lock_drop_tree(const char *user_id, const char *path)
{
  davlock_remove_tree(user_id, path);
}

static void lock_xml(buf_t *b, const struct davlock *l)
{
  buf_printf(b, "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:%s/>"
                "</D:lockscope><D:depth>%s</D:depth>", l->exclusive ? "exclusive" : "shared",
             l->infinity ? "infinity" : "0");
  if(l->owner_xml[0])
    buf_printf(b, "<D:owner>%s</D:owner>", l->owner_xml);
  buf_printf(b, "<D:timeout>Second-%lld</D:timeout><D:locktoken><D:href>%s</D:href>"
                "</D:locktoken><D:lockroot><D:href>", (long long)l->timeout_s, l->token);
  dav_href(b, strcmp(l->path, "/") ? l->path : "/", false);
  buf_puts(b, "</D:href></D:lockroot></D:activelock>");
}

void dav_lock_discovery(const struct davlock *locks, size_t n, const char *path, buf_t *b)
{
  for(size_t i = 0; i < n; i++)
    if(lock_covers(&locks[i], path))
      lock_xml(b, &locks[i]);
}

static int64_t lock_timeout(const char *h)
{
  if(h && !strncasecmp(h, "Second-", 7)) {
    long long s = strtoll(h + 7, NULL, 10);
    if(s > 0)
      return s > LOCK_TIMEOUT_MAX ? LOCK_TIMEOUT_MAX : s;
  }
  if(h && !strncasecmp(h, "Infinite", 8))
    return LOCK_TIMEOUT_MAX;
  return LOCK_TIMEOUT_DEFAULT;
}

static int lock_reply(struct http_req *r, unsigned status, const struct davlock *l)
{
  buf_t b;
  char hdr[DAVLOCK_TOKEN_MAX + 4];
  buf_init(&b, 64 * 1024);
  buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\">"
               "<D:lockdiscovery>");
  lock_xml(&b, l);
  buf_puts(&b, "</D:lockdiscovery></D:prop>\n");
  snprintf(hdr, sizeof(hdr), "<%s>", l->token);
  http_add_header(r, "Lock-Token", hdr);
  return dav_reply_xml(r, status, &b);
}

/* A LOCK without a body refreshes the lock named in the If: header. */
static int lock_refresh(struct http_req *r, struct dav_ctx *c, struct davlock *l)
{
  struct davlock *locks = NULL;
  size_t n = 0;
  const char *h = http_header(r, "If");
  int rc = davlock_list(c->user.id, &locks, &n);
  if(rc != DRIVE_OK)
    return dav_reply_drive(r, rc);
  for(size_t i = 0; h && i < n; i++) {
    char want[DAVLOCK_TOKEN_MAX + 4];
    snprintf(want, sizeof(want), "<%s>", locks[i].token);
    if(strstr(h, want) && lock_covers(&locks[i], c->item.path)) {
      *l = locks[i];
      free(locks);
      l->timeout_s = lock_timeout(http_header(r, "Timeout"));
      if((rc = davlock_refresh(c->user.id, l->token, l->timeout_s)) != DRIVE_OK)
        return dav_reply_drive(r, rc);
      return lock_reply(r, HTTP_OK, l);
    }
  }
  free(locks);
  return dav_reply_status(r, HTTP_PRECONDITION_FAILED);
}

/* Makes the empty file a LOCK of an unmapped URL stands for. */
static int lock_make_empty(struct dav_ctx *c)
{
  const char *why = NULL;
  char id[40];
  struct upload *u = upload_new(c->user.id, dav_parent(&c->item));
  int rc = u ? upload_set_name(u, c->item.name, &why) : DRIVE_INTERNAL;
  if(rc == DRIVE_OK)
    rc = upload_finish(u, id, sizeof(id));
  upload_free(u);
  return rc;
}

int dav_lock(struct http_req *r, struct dav_ctx *c)
{
  struct davlock *l = calloc(1, sizeof(*l));
  struct dav_xnode *root = NULL;
  int rc = l ? dav_resolve(c->user.id, r->path, &c->item) : DRIVE_INTERNAL;
  if(rc != DRIVE_OK) {
    free(l);
    return rc == DRIVE_NOT_FOUND ? dav_reply_status(r, HTTP_CONFLICT)
                                 : dav_reply_drive(r, rc == DRIVE_INVALID ? DRIVE_NOT_FOUND : rc);
  }
  if(!c->body.len) {
    rc = lock_refresh(r, c, l);
    free(l);
    return rc;
  }
  const char *depth = http_header(r, "Depth");
  struct dav_xnode *info, *scope, *owner;
  if(dav_xml_parse(c->body.data, c->body.len, &root) != 0 ||
     !dav_xml_is(root, NS_DAV, "lockinfo") || !(scope = dav_xml_child(root, NS_DAV, "lockscope")) ||
     (depth && strcmp(depth, "0") && strcasecmp(depth, "infinity"))) {
    rc = dav_reply_status(r, HTTP_BAD_REQUEST);
    goto out;
  }
  info = root;
  l->exclusive = dav_xml_child(scope, NS_DAV, "exclusive") != NULL;
  l->infinity = !depth || strcmp(depth, "0") != 0;
  l->timeout_s = lock_timeout(http_header(r, "Timeout"));
  l->expires_at = time_now_ms() + l->timeout_s * 1000;
  snprintf(l->path, sizeof(l->path), "%s", c->item.path);
  if((owner = dav_xml_child(info, NS_DAV, "owner"))) {
    buf_t ob;
    struct dav_xnode *href = dav_xml_child(owner, NS_DAV, "href");
    buf_init(&ob, sizeof(l->owner_xml) - 1);
    if(href) {
      buf_puts(&ob, "<D:href>");
      dav_xml_text(&ob, href->text.data ? href->text.data : "");
      buf_puts(&ob, "</D:href>");
    }
    else
      dav_xml_text(&ob, owner->text.data ? owner->text.data : "");
    snprintf(l->owner_xml, sizeof(l->owner_xml), "%s", ob.data ? ob.data : "");
    buf_free(&ob);
  }
  /* Conflicts: an exclusive lock shares with nothing. */
  struct davlock *locks = NULL;
  size_t n = 0;
  if((rc = davlock_list(c->user.id, &locks, &n)) != DRIVE_OK) {
    rc = dav_reply_drive(r, rc);
    goto out;
  }
  for(size_t i = 0; i < n; i++) {
    bool overlap = lock_covers(&locks[i], l->path) || (l->infinity && path_below(locks[i].path, l->path));
    if(overlap && (locks[i].exclusive || l->exclusive)) {
      free(locks);
      rc = dav_reply_status(r, HTTP_LOCKED);
      goto out;
    }
  }
  free(locks);
  unsigned status = HTTP_OK;
  if(c->item.kind == DAV_NONE) {
    /* The new empty file joins its collection: a lock on the parent must
     * be named (its membership is what the lock protects). */
    if(!dav_lock_allows(r, c, c->item.path, false, true)) {
      rc = 0;
      goto out;
    }
    if((rc = lock_make_empty(c)) != DRIVE_OK) {
      rc = dav_reply_drive(r, rc == DRIVE_INVALID ? DRIVE_NOT_FOUND : rc);
      goto out;
    }
    status = HTTP_CREATED;
  }
  unsigned char raw[16];
  randombytes_buf(raw, sizeof(raw));
  snprintf(l->token, sizeof(l->token), "opaquelocktoken:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x", raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6],
           raw[7], raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]);
  if((rc = davlock_add(c->user.id, l)) != DRIVE_OK)
    rc = dav_reply_drive(r, rc);
  else
    rc = lock_reply(r, status, l);
out:
  dav_xml_free(root);
  free(l);
  return rc;
}

int dav_unlock(struct http_req *r, struct dav_ctx *c)
{
  const char *h = http_header(r, "Lock-Token");
  char tok[DAVLOCK_TOKEN_MAX];
  struct davlock *locks = NULL;
  size_t n = 0, len = h ? strlen(h) : 0;
  if(!h || len < 3 || h[0] != '<' || h[len - 1] != '>' || len - 2 >= sizeof(tok))
    return dav_reply_status(r, HTTP_BAD_REQUEST);
  memcpy(tok, h + 1, len - 2);
  tok[len - 2] = 0;
  int rc = dav_resolve(c->user.id, r->path, &c->item);
  if(rc == DRIVE_OK && c->item.kind == DAV_NONE)
    rc = DRIVE_NOT_FOUND;
  if(rc != DRIVE_OK)
    return dav_reply_drive(r, rc == DRIVE_INVALID ? DRIVE_NOT_FOUND : rc);
  if((rc = davlock_list(c->user.id, &locks, &n)) != DRIVE_OK)
    return dav_reply_drive(r, rc);
  bool found = false;
  for(size_t i = 0; i < n; i++)
    if(!strcmp(locks[i].token, tok) && lock_covers(&locks[i], c->item.path))
      found = true;
  free(locks);
  if(!found)
    return dav_reply_status(r, HTTP_CONFLICT);   /* lock-token-matches-request-uri */
  rc = davlock_remove(c->user.id, tok);
  return rc == DRIVE_OK ? dav_reply_status(r, HTTP_NO_CONTENT) : dav_reply_drive(r, rc);
}
