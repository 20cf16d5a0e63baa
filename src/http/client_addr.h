/* client_addr: who the client is when reverse proxies stand in front.
 * Only when the TCP peer is in TRUSTED_PROXIES are its forwarding headers
 * believed: X-Forwarded-For (all fields, in order), or, when there is none,
 * RFC 7239 Forwarded's for= parameters. The hops are walked from the right,
 * skipping trusted proxies; the first other address is the client (all
 * trusted: the leftmost). A hop that is malformed, "unknown" or obfuscated
 * ends the walk without a client: the peer address is used then, as it is
 * without a proxy. The parsing is pure (no sockets) so it is unit-tested. */
#ifndef NETRA_CLIENT_ADDR_H
#define NETRA_CLIENT_ADDR_H
#include <stdbool.h>
#include "util/cidr.h"

#define FWD_HOPS_MAX 32 /* the rightmost hops kept per header: only they can be walked */

enum fwd_hop_kind {
  FWD_ADDR,   /* an address */
  FWD_HIDDEN, /* Forwarded "unknown", an obfuscated node, or no for= */
  FWD_BAD     /* not an address, or a field with bad syntax */
};

struct fwd_hop {
  enum fwd_hop_kind kind;
  struct cidr_addr addr; /* FWD_ADDR only */
};

/* The hops of one header name, in order: a ring holding the last FWD_HOPS_MAX. */
struct fwd_chain {
  int fields;  /* header fields seen */
  long n;      /* hops seen */
  struct fwd_hop hop[FWD_HOPS_MAX];
};

struct fwd_headers {
  struct fwd_chain xff; /* X-Forwarded-For */
  struct fwd_chain fwd; /* Forwarded */
};

void fwd_headers_init(struct fwd_headers *h);
/** Adds one request header field; names other than X-Forwarded-For and
 *  Forwarded (either case) are ignored. */
void fwd_headers_add(struct fwd_headers *h, const char *name, const char *value);
/** The client named by the headers (X-Forwarded-For wins when present);
 *  false when they name none and the peer address stands. */
bool fwd_headers_client(const struct fwd_headers *h, const struct cidr_list *trusted,
                        struct cidr_addr *out);

/** Called once by http_start, before any request: the proxies to believe
 *  (copied; NULL or empty trusts none). */
void http_client_addr_setup(const struct cidr_list *trusted);

#endif
