/* tg_attempt: one attempt of a call: its curl easy handle (a form POST, a
 * multipart document, or a file download with Range), the header and body
 * callbacks, and what the answer means (tg_retry's classes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "telegram/tg_api_priv.h"

#define TG_CONNECT_TIMEOUT_MS 10000
#define TG_CALL_TIMEOUT_S 60      /* small JSON calls */
#define TG_STALL_TIME_S 60        /* uploads and downloads: abort when stalled this long */
#define TG_XFER_BUFFER (256 * 1024) /* fewer, larger writes for chunk-sized transfers */

void tg_attempt_end(struct tg_call *call)
{
  if(call->easy)
    curl_easy_cleanup(call->easy);
  curl_mime_free(call->mime);
  curl_slist_free_all(call->headers);
  call->easy = NULL;
  call->mime = NULL;
  call->headers = NULL;
  buf_reset(&call->body);
}

static size_t tg_attempt_header(char *b, size_t size, size_t nmemb, void *ud)
{
  struct tg_call *call = ud;
  size_t n = size * nmemb;
  char line[256];
  if(n >= sizeof(line))
    return n;
  memcpy(line, b, n);
  line[n] = 0;
  if(!strncmp(line, "HTTP/", 5)) {
    /* A new response (after a 100 Continue, say): forget the last one's. */
    call->retry_after_hdr = -1;
    call->range_start = -1;
  }
  else if(!strncasecmp(line, "Retry-After:", 12)) {
    long v = strtol(line + 12, NULL, 10);
    if(v >= 0 && v <= TG_RETRY_AFTER_MAX)
      call->retry_after_hdr = (int)v;
  }
  else if(!strncasecmp(line, "Content-Range:", 14)) {
    unsigned long long a, b2;
    if(sscanf(line + 14, " bytes %llu-%llu/", &a, &b2) == 2)
      call->range_start = (int64_t)a;
  }
  return n;
}

/* Decides at the first byte whether the body is file data or an error page. */
static void tg_attempt_begin_body(struct tg_call *call)
{
  long code = 0;
  curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &code);
  call->status = (int)code;
  call->data_mode = false;
  call->skip = 0;
  if(code == 206) {
    if(call->range_start != (int64_t)call->pos)
      call->bad_range = true;
    else
      call->data_mode = true;
  }
  else if(code == 200) {
    call->data_mode = true;
    call->skip = call->pos; /* the server ignored the Range: skip to ours */
  }
}

static size_t tg_attempt_write(char *data, size_t size, size_t nmemb, void *ud)
{
  struct tg_call *call = ud;
  size_t n = size * nmemb;
  if(call->kind != TG_KIND_DOWNLOAD)
    return buf_append(&call->body, data, n) == BUF_OK ? n : 0; /* oversized: abort */
  if(call->status == 0)
    tg_attempt_begin_body(call);
  if(call->bad_range)
    return 0;
  if(!call->data_mode) {
    buf_append(&call->body, data, n); /* keep what fits of the error page */
    return n;
  }
  size_t off = 0;
  if(call->skip) {
    off = call->skip < n ? (size_t)call->skip : n;
    call->skip -= off;
  }
  size_t avail = n - off, want = avail;
  if(want > call->stop - call->pos)
    want = (size_t)(call->stop - call->pos);
  size_t took = want ? call->sink(call->sink_arg, call->pos, data + off, want) : 0;
  call->pos += took;
  if(took < avail) {
    /* At the stop, or the sink has enough: end the transfer, successfully. */
    call->stopped = true;
    return 0;
  }
  return n;
}

int tg_attempt_prepare(struct tg_call *call)
{
  CURL *e = curl_easy_init();
  if(!e)
    return -1;
  call->easy = e;
  call->status = 0;
  call->retry_after_hdr = -1;
  call->range_start = -1;
  call->bad_range = false;
  call->stopped = false;
  call->data_mode = false;
  call->errbuf[0] = 0;
  buf_reset(&call->body);
  call->headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
  if(!call->headers)
    return -1;
  curl_easy_setopt(e, CURLOPT_URL, call->url);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "NetraDrive");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, tg_attempt_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, tg_attempt_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)TG_CONNECT_TIMEOUT_MS);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  if(call->opts.timeout_s > 0)
    curl_easy_setopt(e, CURLOPT_TIMEOUT, call->opts.timeout_s);
  if(call->kind == TG_KIND_CALL) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->form);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(call->form));
    if(call->opts.timeout_s <= 0)
      curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)TG_CALL_TIMEOUT_S);
    return 0;
  }
  /* Big transfers: no overall limit, but give up on a stalled one. */
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)TG_STALL_TIME_S);
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)TG_XFER_BUFFER);
  curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)TG_XFER_BUFFER);
  if(call->kind == TG_KIND_DOWNLOAD) {
    char range[64];
    if(call->pos > 0 || call->stop < call->total) {
      snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)call->pos,
               (unsigned long long)call->stop - 1);
      curl_easy_setopt(e, CURLOPT_RANGE, range); /* curl copies it */
    }
    return 0;
  }
  curl_mime *mime = curl_mime_init(e);
  if(!mime)
    return -1;
  call->mime = mime;
  for(size_t i = 0; i < call->nparams; i++) {
    curl_mimepart *p = curl_mime_addpart(mime);
    if(!p || curl_mime_name(p, call->params[i].name) != CURLE_OK ||
       curl_mime_data(p, call->params[i].value, CURL_ZERO_TERMINATED) != CURLE_OK)
      return -1;
  }
  curl_mimepart *doc = curl_mime_addpart(mime);
  /* A part is a file only when it has a filename: set one explicitly. */
  if(!doc || curl_mime_name(doc, "document") != CURLE_OK ||
     curl_mime_filedata(doc, call->doc_path) != CURLE_OK ||
     curl_mime_filename(doc, call->doc_name) != CURLE_OK ||
     curl_mime_type(doc, "application/octet-stream") != CURLE_OK)
    return -1;
  curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
  return 0;
}

/* Fills res.reply from this attempt and classifies it. */
enum tg_class tg_attempt_judge(struct tg_call *call, CURLcode rc)
{
  struct tg_reply *rep = &call->res.reply;
  if(call->kind == TG_KIND_DOWNLOAD && call->data_mode) {
    if(call->stopped || (rc == CURLE_OK && call->pos >= call->stop)) {
      tg_reply_clear(rep);
      rep->ok = true;
      rep->http_status = call->status;
      return TG_CLASS_OK;
    }
    tg_reply_set_error(rep, call->status,
                       rc != CURLE_OK ? (call->errbuf[0] ? call->errbuf : curl_easy_strerror(rc))
                                      : "download ended early");
    return tg_classify(rc, call->status, false);
  }
  if(call->bad_range) {
    tg_reply_set_error(rep, call->status, "download answered another range than asked");
    return TG_CLASS_RETRY;
  }
  if(rc != CURLE_OK && !(call->kind == TG_KIND_DOWNLOAD && call->status >= 300)) {
    tg_reply_set_error(rep, call->status,
                       rc == CURLE_WRITE_ERROR ? "reply too large"
                       : call->errbuf[0]       ? call->errbuf
                                               : curl_easy_strerror(rc));
    return tg_classify(rc, call->status, false);
  }
  tg_reply_parse(rep, call->status, call->body.data, call->body.len, call->retry_after_hdr);
  if(call->kind == TG_KIND_DOWNLOAD) /* an error status: never file data */
    return tg_classify(CURLE_OK, rep->envelope ? rep->error_code : call->status, false);
  if(rep->ok)
    return TG_CLASS_OK;
  return tg_classify(CURLE_OK, rep->envelope ? rep->error_code : call->status, false);
}

