/* server_priv: what server.c (start, stop, options) shares with request.c. */
#ifndef NETRA_HTTP_SERVER_PRIV_H
#define NETRA_HTTP_SERVER_PRIV_H
#include <stdatomic.h>
#include "http/http.h"

extern const struct http_route *const *srv_tables;
extern http_auth_fn srv_auth;
extern void (*srv_auth_free)(void *auth);
extern atomic_uint_fast64_t srv_inflight;
extern atomic_uint_fast64_t srv_requests;
extern atomic_uint_fast64_t srv_bytes_in;

#endif
