/* client_addr: see client_addr.h. */
#include "http/client_addr.h"
#include "http/http.h"
#include "http/h1parse.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- the hop chain ---------------------------------------------------------- */

static void fwd_push(struct fwd_chain *c, enum fwd_hop_kind kind, const struct cidr_addr *a)
{
  struct fwd_hop *h = &c->hop[c->n % FWD_HOPS_MAX];
  h->kind = kind;
  if(a)
    h->addr = *a;
  else
    memset(&h->addr, 0, sizeof(h->addr));
  c->n++;
}

static bool fwd_blank(char c)
{
  return c == ' ' || c == '\t';
}

/* X-Forwarded-For: "client, proxy1, proxy2", bare addresses. Empty items
 * are skipped as in any HTTP list; anything else that is not an address
 * (ports, "unknown", names) is a bad hop. */
static void fwd_add_xff(struct fwd_chain *c, const char *v)
{
  c->fields++;
  for(;;) {
    const char *end = strchr(v, ',');
    size_t n = end ? (size_t)(end - v) : strlen(v);
    const char *p = v;
    while(n && fwd_blank(*p))
      p++, n--;
    while(n && fwd_blank(p[n - 1]))
      n--;
    if(n) {
      struct cidr_addr a;
      if(cidr_addr_parse(p, n, &a))
        fwd_push(c, FWD_ADDR, &a);
      else
        fwd_push(c, FWD_BAD, NULL);
    }
    if(!end)
      break;
    v = end + 1;
  }
}

/* RFC 7230 tchar. */
static bool fwd_tchar(char ch)
{
  return isalnum((unsigned char)ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* obfnode / obfport: "_" 1*( ALPHA / DIGIT / "." / "_" / "-" ). */
static bool fwd_obfuscated(const char *s, size_t n)
{
  if(n < 2 || s[0] != '_')
    return false;
  for(size_t i = 1; i < n; i++)
    if(!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
      return false;
  return true;
}

/* node-port: 1*5DIGIT / obfport. */
static bool fwd_port(const char *s, size_t n)
{
  if(fwd_obfuscated(s, n))
    return true;
  if(n < 1 || n > 5)
    return false;
  for(size_t i = 0; i < n; i++)
    if(!isdigit((unsigned char)s[i]))
      return false;
  return true;
}

/* A for= node (RFC 7239 §6): IPv4 [":" port], "[" IPv6 "]" [":" port],
 * "unknown" or "_obfuscated". */
static enum fwd_hop_kind fwd_node(const char *s, size_t n, struct cidr_addr *a)
{
  if((n == 7 && !strncasecmp(s, "unknown", 7)) || fwd_obfuscated(s, n))
    return FWD_HIDDEN;
  const char *host = s, *rest;
  size_t hlen;
  if(n && s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if(!close)
      return FWD_BAD;
    host = s + 1;
    hlen = (size_t)(close - host);
    rest = close + 1;
    if(!memchr(host, ':', hlen)) /* brackets hold IPv6 only */
      return FWD_BAD;
  }
  else {
    const char *colon = memchr(s, ':', n);
    hlen = colon ? (size_t)(colon - s) : n;
    rest = s + hlen;
  }
  size_t rlen = (size_t)(s + n - rest);
  if(rlen && (rest[0] != ':' || !fwd_port(rest + 1, rlen - 1)))
    return FWD_BAD;
  if(!cidr_addr_parse(host, hlen, a))
    return FWD_BAD;
  /* An IPv6 address must be bracketed, so "::1" alone is malformed. */
  if(host == s && memchr(host, ':', hlen))
    return FWD_BAD;
  return FWD_ADDR;
}

/* Forwarded: 1#( [pair] *( ";" [pair] ) ), pair = token "=" ( token /
 * quoted-string ). Each element gives one hop from its for= pair; a field
 * with bad syntax gives one bad hop where it stopped making sense. */
static void fwd_add_forwarded(struct fwd_chain *c, const char *p)
{
  char val[CIDR_TEXT_MAX];
  c->fields++;
  for(;;) { /* one element */
    bool has_for = false, any = false, too_long = false;
    size_t vlen = 0;
    for(;;) { /* one pair */
      while(fwd_blank(*p))
        p++;
      if(*p && *p != ';' && *p != ',') {
        const char *name = p;
        while(fwd_tchar(*p))
          p++;
        size_t nlen = (size_t)(p - name);
        if(!nlen || *p != '=')
          goto bad;
        p++;
        bool is_for = nlen == 3 && !strncasecmp(name, "for", 3);
        if(is_for && has_for) /* two for= in one element: which one? */
          goto bad;
        size_t n = 0;
        bool over = false;
        if(*p == '"') {
          for(p++; *p != '"'; p++) {
            if(!*p)
              goto bad;
            if(*p == '\\' && !*++p)
              goto bad;
            if(!is_for)
              continue; /* only the for= value is kept */
            if(n < sizeof(val) - 1)
              val[n++] = *p;
            else
              over = true;
          }
          p++;
        }
        else {
          const char *t = p;
          while(fwd_tchar(*p))
            p++;
          if(p == t)
            goto bad;
          n = (size_t)(p - t);
          over = n >= sizeof(val);
          if(is_for && !over)
            memcpy(val, t, n);
        }
        if(is_for) {
          has_for = true;
          vlen = n;
          too_long = over;
        }
        any = true;
        while(fwd_blank(*p))
          p++;
      }
      if(*p == ';') {
        p++;
        continue;
      }
      if(*p && *p != ',')
        goto bad;
      break;
    }
    if(has_for) {
      struct cidr_addr a;
      enum fwd_hop_kind k = too_long ? FWD_BAD : fwd_node(val, vlen, &a);
      fwd_push(c, k, k == FWD_ADDR ? &a : NULL);
    }
    else if(any) /* an element that does not say whom it forwarded for */
      fwd_push(c, FWD_HIDDEN, NULL);
    if(!*p)
      return;
    p++; /* ',' */
  }
bad:
  fwd_push(c, FWD_BAD, NULL);
}

/* Walks from the right past trusted hops. */
static bool fwd_chain_client(const struct fwd_chain *c, const struct cidr_list *trusted,
                             struct cidr_addr *out)
{
  long kept = c->n < FWD_HOPS_MAX ? c->n : FWD_HOPS_MAX;
  if(!kept)
    return false;
  for(long k = 0; k < kept; k++) {
    const struct fwd_hop *h = &c->hop[(c->n - 1 - k) % FWD_HOPS_MAX];
    if(h->kind != FWD_ADDR)
      return false;
    *out = h->addr;
    if(!cidr_list_match(trusted, &h->addr))
      return true;
  }
  return true; /* every hop is a trusted proxy: the leftmost is the client */
}

void fwd_headers_init(struct fwd_headers *h)
{
  memset(h, 0, sizeof(*h));
}

void fwd_headers_add(struct fwd_headers *h, const char *name, const char *value)
{
  if(!name || !value)
    return;
  if(!strcasecmp(name, "X-Forwarded-For"))
    fwd_add_xff(&h->xff, value);
  else if(!strcasecmp(name, "Forwarded"))
    fwd_add_forwarded(&h->fwd, value);
}

bool fwd_headers_client(const struct fwd_headers *h, const struct cidr_list *trusted,
                        struct cidr_addr *out)
{
  if(h->xff.fields)
    return fwd_chain_client(&h->xff, trusted, out);
  return fwd_chain_client(&h->fwd, trusted, out);
}

/* ---- the request's client ------------------------------------------------- */

/* Written once by http_start before the daemon starts, then only read. */
static struct cidr_list client_trusted;

void http_client_addr_setup(const struct cidr_list *trusted)
{
  if(trusted)
    client_trusted = *trusted;
  else
    client_trusted.n = 0;
}

void http_client_addr(const struct http_req *r, char *out, size_t outsz)
{
  const struct sockaddr *sa = http_conn_peer(r->conn);
  snprintf(out, outsz, "unknown");
  if(!sa)
    return;
  struct cidr_addr peer, client;
  if(client_trusted.n && cidr_addr_from_sockaddr(sa, &peer) &&
     cidr_list_match(&client_trusted, &peer)) {
    struct fwd_headers h;
    fwd_headers_init(&h);
    for(int i = 0; r->head && i < r->head->nfields; i++)
      fwd_headers_add(&h, r->head->fields[i].name, r->head->fields[i].value);
    if(fwd_headers_client(&h, &client_trusted, &client)) {
      cidr_addr_format(&client, out, outsz);
      return;
    }
  }
  if(sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outsz);
  else if(sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outsz);
}
