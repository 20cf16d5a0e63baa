/* cors: Cross-Origin Resource Sharing for the origins in CORS_ORIGINS. */
#ifndef NETRA_CORS_H
#define NETRA_CORS_H
#include "http/http.h"

/** Parses the comma list once at start ("*" allows any origin). */
int cors_init(const char *origins);
void cors_free(void);
/** Returns `origin` when it is allowed (the value to echo), else NULL. */
const char *cors_allowed_origin(const char *origin);
/** Adds Access-Control-* headers for an allowed origin to a response. */
void cors_add_headers(const struct http_req *r, struct http_response *resp);
/** Answers an OPTIONS preflight request. */
void cors_preflight(struct http_req *r);

#endif
