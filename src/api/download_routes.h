/* download: the streaming responder for a file's bytes, shared by
 * GET/HEAD /api/v1/files/{id}/download and /preview (api_download_routes in
 * api.h) and the public share route /s/{id}.
 *
 * It answers 200 (everything), 206 (one range, or several as
 * multipart/byteranges after coalescing; see http/range.h for the policy),
 * 304 (If-None-Match / If-Modified-Since), 412 (If-Match /
 * If-Unmodified-Since) or 416 (Content-Range: bytes * / size, JSON body), with
 * Content-Type, Content-Length, Accept-Ranges, a strong ETag ("<sha256>"),
 * Last-Modified, Cache-Control: private and an RFC 6266 Content-Disposition.
 * HEAD gets the same headers as GET without Range handling. The body streams
 * through drive/reader in blocks of DOWNLOAD_BLOCK bytes: never the whole
 * file in memory; when a chunk's bytes are not there yet (remote backend)
 * the connection is suspended and resumed from the reader's wake callback. */
#ifndef NETRA_DOWNLOAD_H
#define NETRA_DOWNLOAD_H
#include <stdbool.h>
#include <stdint.h>
#include "drive/files.h"
#include "http/http.h"

#define DOWNLOAD_BLOCK (256 * 1024)   /* response buffer: one read per block */

/** Replies with the bytes of `f` (which the caller has checked the client
 *  may see: owner, not binned, share valid). `inline_disposition` selects
 *  `inline` (preview, shares) over `attachment`. Inline answers for types a
 *  browser would run script in (HTML, SVG, XML, JavaScript) are sent as
 *  text/plain; every answer for such a type carries
 *  `Content-Security-Policy: sandbox`. `extra_csp` (NULL for none) is an
 *  additional Content-Security-Policy value sent with every answer.
 *  Returns what the http_reply_* call returned (0: a reply was queued);
 *  storage or database faults are answered 500/503 here. */
int download_respond(struct http_req *r, const struct file_rec *f, bool inline_disposition,
                     const char *extra_csp);

/** The first content byte download_respond() would send for this request:
 *  0 for a whole-file GET (also of an empty file), the first range's start
 *  for a 206, -1 when no content goes out (HEAD, 304, 412, 416). For
 *  counting views of shares ("requests that start at byte 0"). */
int64_t download_first_byte(struct http_req *r, const struct file_rec *f);

#endif
