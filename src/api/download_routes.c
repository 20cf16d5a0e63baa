/* download: GET/HEAD /api/v1/files/{id}/download and /preview, and the
 * streaming responder they share with public shares (see download.h).
 *
 * The body is a list of segments: byte ranges of the content (read through
 * drive/reader) and, for multipart/byteranges, the part headers between
 * them. The connection pulls it block by block through dl_read(); when a remote chunk
 * has not arrived, dl_read() suspends the connection and the reader's wake
 * callback (any thread) resumes it. A mutex orders the two, so a wake that
 * comes before the suspend is not lost. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "api/api.h"
#include "api/download_routes.h"
#include "drive/drive.h"
#include "drive/reader.h"
#include "http/range.h"
#include "util/id.h"
#include "util/log.h"

#define DL_TYPE_MAX 128
#define DL_DISPOSITION_MAX (32 + 256 + 24 + 3 * 256)
#define DL_PART_HEAD_MAX (64 + DL_TYPE_MAX + 80)   /* one multipart part header */

/* One piece of the body: content bytes [from, from + len) or header text. */
struct dl_seg {
  bool is_text;
  uint64_t from;       /* content offset, or offset in dl_stream.text */
  uint64_t len;
};

struct dl_stream {
  struct reader *rd;
  struct http_conn *conn;
  char request_id[24];
  pthread_mutex_t lock;      /* orders suspend (poll thread) and wake (any thread) */
  bool suspended;
  bool wake_pending;
  bool failed;
  char *text;                /* multipart part headers */
  size_t seg;                /* current segment */
  uint64_t seg_pos;          /* bytes of it already produced */
  size_t nseg;
  struct dl_seg segs[];
};

/* ---- headers ---- */

/* Content-Disposition (RFC 6266): an ASCII fallback in `filename` for old
 * clients, the exact UTF-8 name in `filename*` (RFC 8187). */
static void dl_disposition(const char *name, bool inl, char *out, size_t outsz)
{
  static const char hexd[] = "0123456789ABCDEF";
  size_t o = (size_t)snprintf(out, outsz, "%s; filename=\"", inl ? "inline" : "attachment");
  /* Fallback: one '_' per non-ASCII character, and for the bytes a quoted
   * string or some clients mishandle: quote, backslash, '%', controls. */
  for(const unsigned char *p = (const unsigned char *)name; *p && o + 2 < outsz; p++) {
    if((*p & 0xC0) == 0x80)
      continue;   /* UTF-8 continuation byte: its lead byte already gave a '_' */
    bool ok = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != '%';
    out[o++] = ok ? (char)*p : '_';
  }
  o += (size_t)snprintf(out + o, outsz - o, "\"; filename*=UTF-8''");
  for(const unsigned char *p = (const unsigned char *)name; *p && o + 4 < outsz; p++) {
    /* attr-char (RFC 8187) goes as is, everything else percent-encoded */
    if((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
       strchr("!#$&+-.^_`|~", *p))
      out[o++] = (char)*p;
    else {
      out[o++] = '%';
      out[o++] = hexd[*p >> 4];
      out[o++] = hexd[*p & 15];
    }
  }
  out[o < outsz ? o : outsz - 1] = 0;
}

/* The stored type, if it is a plain media type (it goes into a header). */
static void dl_safe_type(const char *mime, char *out, size_t outsz)
{
  size_t n = strlen(mime);
  bool ok = n > 2 && n < outsz && strchr(mime, '/');
  for(size_t i = 0; ok && i < n; i++)
    ok = (mime[i] >= 'A' && mime[i] <= 'Z') || (mime[i] >= 'a' && mime[i] <= 'z') ||
         (mime[i] >= '0' && mime[i] <= '9') || strchr("!#$&^_.+-/;= \"", mime[i]);
  snprintf(out, outsz, "%s", ok ? mime : "application/octet-stream");
}

/* Types a browser may run script in when it renders them. */
static bool dl_type_scriptable(const char *type)
{
  static const char *const exact[] = {"text/xml", "application/xml", "text/xsl"};
  char t[DL_TYPE_MAX];
  size_t n = 0;
  while(*type == ' ')
    type++;
  for(; type[n] && type[n] != ';' && type[n] != ' ' && n + 1 < sizeof(t); n++)
    t[n] = (char)(type[n] >= 'A' && type[n] <= 'Z' ? type[n] - 'A' + 'a' : type[n]);
  t[n] = 0;
  for(size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
    if(!strcmp(t, exact[i]))
      return true;
  /* html, xhtml+xml, svg+xml and any other +xml, javascript, ecmascript... */
  return strstr(t, "html") || strstr(t, "script") || strstr(t, "+xml") ||
         !strncmp(t, "multipart/", 10);
}

/* Validators and caching headers every answer about the file carries. */
static void dl_common_headers(struct http_response *resp, const char *etag, const char *lastmod)
{
  http_response_header(resp, HTTP_HEADER_ETAG, etag);
  http_response_header(resp, HTTP_HEADER_LAST_MODIFIED, lastmod);
  http_response_header(resp, HTTP_HEADER_CACHE_CONTROL, "private");
}

/* ---- streaming ---- */

/* The reader's wake callback: any thread. */
static void dl_wake(void *arg)
{
  struct dl_stream *s = arg;
  pthread_mutex_lock(&s->lock);
  if(s->suspended) {
    s->suspended = false;
    http_conn_resume(s->conn);
  }
  else
    s->wake_pending = true;
  pthread_mutex_unlock(&s->lock);
}

/* After BLOB_AGAIN: true when a wake already came (read again now), else
 * suspends the connection (the callback must then return 0). */
static bool dl_wait(struct dl_stream *s)
{
  bool retry;
  pthread_mutex_lock(&s->lock);
  retry = s->wake_pending;
  s->wake_pending = false;
  if(!retry) {
    s->suspended = true;
    http_conn_suspend(s->conn);
  }
  pthread_mutex_unlock(&s->lock);
  return retry;
}

/* Declares the next content range to the reader so read-ahead stays in it. */
static void dl_enter_segment(struct dl_stream *s)
{
  if(s->seg < s->nseg && !s->segs[s->seg].is_text && s->segs[s->seg].len)
    reader_set_window(s->rd, s->segs[s->seg].from,
                      s->segs[s->seg].from + s->segs[s->seg].len - 1);
}

/* The response's reader: fills up to `max` bytes of the body. */
static ssize_t dl_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct dl_stream *s = cls;
  size_t filled = 0;
  (void)pos;   /* pos == bytes produced so far (no reuse) */
  if(s->failed)
    return HTTP_READER_END_WITH_ERROR;
  while(filled < max && s->seg < s->nseg) {
    const struct dl_seg *g = &s->segs[s->seg];
    if(s->seg_pos == g->len) {
      s->seg++;
      s->seg_pos = 0;
      dl_enter_segment(s);
      continue;
    }
    uint64_t want = g->len - s->seg_pos;
    if(want > max - filled)
      want = max - filled;
    ssize_t got;
    if(g->is_text) {
      memcpy(buf + filled, s->text + g->from + s->seg_pos, (size_t)want);
      got = (ssize_t)want;
    }
    else {
      got = reader_read(s->rd, g->from + s->seg_pos, buf + filled, (size_t)want);
      if(got == READER_AGAIN) {
        if(filled)
          break;          /* send what we have; ask again later */
        if(dl_wait(s))
          continue;
        return 0;         /* suspended until dl_wake */
      }
      if(got <= 0) {
        log_error("request %s: download failed reading content at %llu (%zd)", s->request_id,
                  (unsigned long long)(g->from + s->seg_pos), got);
        s->failed = true;
        break;
      }
    }
    s->seg_pos += (uint64_t)got;
    filled += (size_t)got;
  }
  if(filled)
    return (ssize_t)filled;
  return s->failed ? HTTP_READER_END_WITH_ERROR : HTTP_READER_END_OF_STREAM;
}

/* The reader of a response that has no body (304). */
static ssize_t dl_no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
  return HTTP_READER_END_WITH_ERROR;
}

static void dl_stream_free(void *cls)
{
  struct dl_stream *s = cls;
  reader_close(s->rd);   /* no wake after this */
  pthread_mutex_destroy(&s->lock);
  free(s->text);
  free(s);
}

/* Builds the body segments: one range, or the multipart layout. Fills
 * *total with the body length. */
static struct dl_stream *dl_stream_new(const struct range_plan *plan, uint64_t size,
                                       const char *ctype, const char *boundary, uint64_t *total)
{
  size_t nparts = plan->status == 206 ? plan->n : 1;
  bool multi = nparts > 1;
  size_t nseg = multi ? 2 * nparts + 1 : 1;
  struct dl_stream *s = calloc(1, sizeof(*s) + nseg * sizeof(s->segs[0]));
  if(!s)
    return NULL;
  s->nseg = nseg;
  pthread_mutex_init(&s->lock, NULL);
  *total = 0;
  if(!multi) {
    s->segs[0].from = plan->status == 206 ? plan->ranges[0].first : 0;
    s->segs[0].len = plan->status == 206 ? plan->ranges[0].last - plan->ranges[0].first + 1 : size;
    *total = s->segs[0].len;
    return s;
  }
  size_t cap = nparts * DL_PART_HEAD_MAX + 64, len = 0;
  s->text = malloc(cap);
  if(!s->text)
    goto fail;
  for(size_t i = 0; i < nparts; i++) {
    const struct range *rg = &plan->ranges[i];
    struct dl_seg *head = &s->segs[2 * i], *body = &s->segs[2 * i + 1];
    int w = snprintf(s->text + len, cap - len,
                     "%s--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
                     i ? "\r\n" : "", boundary, ctype, (unsigned long long)rg->first,
                     (unsigned long long)rg->last, (unsigned long long)size);
    if(w < 0 || (size_t)w >= cap - len)
      goto fail;
    head->is_text = true;
    head->from = len;
    head->len = (uint64_t)w;
    len += (size_t)w;
    body->from = rg->first;
    body->len = rg->last - rg->first + 1;
    *total += head->len + body->len;
  }
  struct dl_seg *tail = &s->segs[nseg - 1];
  int w = snprintf(s->text + len, cap - len, "\r\n--%s--\r\n", boundary);
  if(w < 0 || (size_t)w >= cap - len)
    goto fail;
  tail->is_text = true;
  tail->from = len;
  tail->len = (uint64_t)w;
  *total += tail->len;
  return s;
fail:
  dl_stream_free(s);
  return NULL;
}

/* 500 or 503 for a reader that cannot open; logs. */
static int dl_reply_fault(struct http_req *r, const struct file_rec *f, int rc)
{
  if(rc != DRIVE_UNAVAILABLE)
    log_error("request %s: cannot read file %s (content %s): %d", r->request_id, f->id,
              f->content_id, rc);
  return api_reply_error(r, rc == DRIVE_UNAVAILABLE ? rc : DRIVE_INTERNAL, NULL);
}

/* The strong validator: the content's SHA-256, quoted. */
static void dl_etag(const struct file_rec *f, char out[72])
{
  snprintf(out, 72, "\"%s\"", f->sha256);
}

/* Evaluates the request's preconditions and Range against the file. */
static void dl_plan(struct http_req *r, const struct file_rec *f, const char *etag,
                    struct range_plan *plan)
{
  struct range_request rq = {
    .range = http_header(r, HTTP_HEADER_RANGE),
    .if_range = http_header(r, HTTP_HEADER_IF_RANGE),
    .if_match = http_header(r, HTTP_HEADER_IF_MATCH),
    .if_none_match = http_header(r, HTTP_HEADER_IF_NONE_MATCH),
    .if_modified_since = http_header(r, HTTP_HEADER_IF_MODIFIED_SINCE),
    .if_unmodified_since = http_header(r, HTTP_HEADER_IF_UNMODIFIED_SINCE),
    .is_get = !strcmp(r->method, "GET"),
  };
  range_evaluate(&rq, f->size > 0 ? (uint64_t)f->size : 0, etag, f->updated_at / 1000,
                 (int64_t)time(NULL), plan);
}

static int dl_reply_not_modified(struct http_req *r, uint64_t size, const char *etag,
                                 const char *lastmod)
{
  /* A 304 goes without a body but with the response's size as
   * Content-Length, which must be the length a 200 would have (RFC 9110
   * §8.6): a sized response whose reader is never called. */
  struct http_response *resp = http_response_callback(size, 1024, dl_no_body, NULL,
                                                                NULL);
  if(!resp)
    return http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
  dl_common_headers(resp, etag, lastmod);
  return http_reply_response(r, HTTP_NOT_MODIFIED, resp);
}

static int dl_reply_unsatisfiable(struct http_req *r, uint64_t size)
{
  char crange[48];
  snprintf(crange, sizeof(crange), "bytes */%llu", (unsigned long long)size);
  http_add_header(r, HTTP_HEADER_CONTENT_RANGE, crange);
  http_add_header(r, HTTP_HEADER_ACCEPT_RANGES, "bytes");
  return http_reply_error(r, HTTP_RANGE_NOT_SATISFIABLE, "Requested range not satisfiable");
}

/* 200 or 206: the streamed body and its headers. */
static int dl_reply_body(struct http_req *r, const struct file_rec *f,
                         const struct range_plan *plan, const char *etag, const char *lastmod,
                         bool inline_disposition, const char *extra_csp)
{
  char ctype[DL_TYPE_MAX], disp[DL_DISPOSITION_MAX], csp[256], crange[80];
  char boundary[ID_LEN + 8] = "", mtype[DL_TYPE_MAX + 32];
  uint64_t size = f->size > 0 ? (uint64_t)f->size : 0, total = 0;
  bool multi = plan->status == HTTP_PARTIAL_CONTENT && plan->n > 1;
  struct http_response *resp = NULL;
  struct dl_stream *s = NULL;
  int rc;

  /* Never let a browser run a stored document's script in our origin. */
  dl_safe_type(f->mime_type, ctype, sizeof(ctype));
  bool scriptable = dl_type_scriptable(ctype);
  if(scriptable && inline_disposition)
    snprintf(ctype, sizeof(ctype), "text/plain; charset=utf-8");
  snprintf(csp, sizeof(csp), "%s%s%s", scriptable ? "sandbox" : "",
           scriptable && extra_csp ? "; " : "", extra_csp ? extra_csp : "");
  dl_disposition(f->name, inline_disposition, disp, sizeof(disp));
  if(multi) {
    char id[ID_LEN + 1];
    id_new(id);
    snprintf(boundary, sizeof(boundary), "netra-%s", id);
  }

  s = dl_stream_new(plan, size, ctype, boundary, &total);
  if(!s)
    goto fail;
  if(total == 0) {
    /* Empty file: nothing to stream. */
    resp = http_response_buffer(0, (void *)"", HTTP_MEM_PERSISTENT);
    dl_stream_free(s);
    if(!resp)
      goto fail;
  }
  else {
    rc = reader_open(f->content_id, size, &s->rd);
    if(rc != DRIVE_OK) {
      dl_stream_free(s);
      return dl_reply_fault(r, f, rc);
    }
    s->conn = r->conn;
    snprintf(s->request_id, sizeof(s->request_id), "%s", r->request_id);
    reader_set_wake(s->rd, dl_wake, s);
    dl_enter_segment(s);
    resp = http_response_callback(total, DOWNLOAD_BLOCK, dl_read, s, dl_stream_free);
    if(!resp) {
      dl_stream_free(s);   /* the response owns `s` only once it exists */
      goto fail;
    }
    http_set_body_size(r, total);
  }

  dl_common_headers(resp, etag, lastmod);
  http_response_header(resp, HTTP_HEADER_ACCEPT_RANGES, "bytes");
  http_response_header(resp, HTTP_HEADER_CONTENT_DISPOSITION, disp);
  if(csp[0])
    http_response_header(resp, HTTP_HEADER_CONTENT_SECURITY_POLICY, csp);
  if(multi) {
    snprintf(mtype, sizeof(mtype), "multipart/byteranges; boundary=%s", boundary);
    http_response_header(resp, HTTP_HEADER_CONTENT_TYPE, mtype);
  }
  else
    http_response_header(resp, HTTP_HEADER_CONTENT_TYPE, ctype);
  if(plan->status == HTTP_PARTIAL_CONTENT && !multi) {
    snprintf(crange, sizeof(crange), "bytes %llu-%llu/%llu",
             (unsigned long long)plan->ranges[0].first, (unsigned long long)plan->ranges[0].last,
             (unsigned long long)size);
    http_response_header(resp, HTTP_HEADER_CONTENT_RANGE, crange);
  }
  return http_reply_response(r, plan->status, resp);
fail:
  return http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
}

int download_respond(struct http_req *r, const struct file_rec *f, bool inline_disposition,
                     const char *extra_csp)
{
  char etag[72], lastmod[RANGE_DATE_LEN];
  struct range_plan plan;
  dl_etag(f, etag);
  range_date_format(f->updated_at / 1000, lastmod);
  dl_plan(r, f, etag, &plan);
  switch(plan.status) {
  case HTTP_NOT_MODIFIED:
    return dl_reply_not_modified(r, f->size > 0 ? (uint64_t)f->size : 0, etag, lastmod);
  case HTTP_PRECONDITION_FAILED:
    return http_reply_error(r, plan.status, "Precondition failed");
  case HTTP_RANGE_NOT_SATISFIABLE:
    return dl_reply_unsatisfiable(r, f->size > 0 ? (uint64_t)f->size : 0);
  default:
    return dl_reply_body(r, f, &plan, etag, lastmod, inline_disposition, extra_csp);
  }
}

int64_t download_first_byte(struct http_req *r, const struct file_rec *f)
{
  char etag[72];
  struct range_plan plan;
  if(strcmp(r->method, "GET") != 0)
    return -1;
  dl_etag(f, etag);
  dl_plan(r, f, etag, &plan);
  if(plan.status == HTTP_OK)
    return 0;
  if(plan.status == HTTP_PARTIAL_CONTENT)
    return (int64_t)plan.ranges[0].first;
  return -1;
}

/* ---- routes ---- */

static int dl_file(struct http_req *r, bool inline_disposition)
{
  struct file_rec f;
  int rc = file_get(api_user_id(r), http_param(r, "id"), &f);
  /* Missing, malformed, another user's or in the bin: all the same 404. */
  if(rc == DRIVE_OK && f.is_deleted)
    rc = DRIVE_NOT_FOUND;
  if(rc != DRIVE_OK)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND ? "File not found" : NULL);
  return download_respond(r, &f, inline_disposition, NULL);
}

static int dl_download(struct http_req *r)
{
  return dl_file(r, false);
}

static int dl_preview(struct http_req *r)
{
  return dl_file(r, true);
}

const struct http_route api_download_routes[] = {
  {"GET", "/api/v1/files/{id}/download", dl_download, HTTP_AUTH | HTTP_LONG, NULL},
  {"GET", "/api/v1/files/{id}/preview", dl_preview, HTTP_AUTH | HTTP_LONG, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
