/* dav: the user's drive as a WebDAV share at /dav/ (RFC 4918 class 1 and
 * 2, RFC 4331 quota; SPEC §13). One prefix route takes every method; HTTP
 * Basic credentials are checked through drive/davcred (the slow check off
 * the poll threads). dav/ parses and renders; drive/ decides. */
#ifndef NETRA_DAV_H
#define NETRA_DAV_H
#include "http/http.h"

extern const struct http_route dav_routes[];

#endif
