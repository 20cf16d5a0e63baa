/* fetch: see fetch.h. One thread owns the curl multi handle and every easy
 * handle; other threads only append to the posted list and wake it with
 * curl_multi_wakeup. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "fetch/fetch.h"
#include "util/cidr.h"
#include "util/ipclass.h"
#include "util/log.h"
#include "util/timefmt.h"

struct fetch_post_item {
  struct fetch_post_item *next;
  void (*fn)(void *);
  void *arg;
};

struct fetch {
  struct fetch *next;            /* the thread's list of transfers */
  CURL *easy;
  const struct fetch_ops *ops;
  void *arg;
  bool allow_private;
  const struct cidr_list *allowed;
  bool head_sent;
  bool paused;                   /* data() asked for a pause */
  bool in_callback;              /* fetch_abort may not run from inside */
  bool aborted;                  /* the owner stopped it */
  bool too_big;
  uint64_t max_size;
  long idle_s;
  int64_t last_ms;               /* monotonic: the last byte (or the start, or a resume) */
  /* The latest response's head (reset at each status line: redirects). */
  char etag[FETCH_HEADER_MAX], last_modified[FETCH_HEADER_MAX];
  char disposition[FETCH_HEADER_MAX];
  bool accept_ranges;
  int64_t range_start;           /* Content-Range's first byte, or -1 */
  struct curl_slist *headers;    /* If-Range, when asked */
  char refused[256];             /* why the guard refused a connection */
};

static pthread_mutex_t fetch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fetch_post_item *fetch_posted, **fetch_posted_tail = &fetch_posted;
static CURLM *fetch_multi;
static pthread_t fetch_thread;
static bool fetch_running, fetch_stopping;
static struct fetch *fetch_list;   /* fetch thread only */

/* ---- the guard ------------------------------------------------------------- */

/* Every connection libcurl opens passes here with its resolved address. */
static curl_socket_t fetch_opensocket(void *clientp, curlsocktype purpose,
                                      struct curl_sockaddr *sa)
{
  struct fetch *f = clientp;
  if(!f->allow_private) {
    struct cidr_addr a;
    char text[64] = "?";
    const char *why = "unknown address";
    if(cidr_addr_from_sockaddr(&sa->addr, &a)) {
      cidr_addr_format(&a, text, sizeof(text));
      why = ipclass_internal(&a);
      if(why && cidr_list_match(f->allowed, &a))
        why = NULL;   /* URL_ALLOWED_NETWORKS */
    }
    if(why) {
      snprintf(f->refused, sizeof(f->refused),
               "Refused: the URL leads to a %s (%s); only public addresses are allowed", why,
               text);
      return CURL_SOCKET_BAD;
    }
  }
  return socket(sa->family, sa->socktype, sa->protocol);
}

int fetch_check_url(const char *url, bool allow_private, const struct cidr_list *allowed,
                    char *why, size_t whysz)
{
  int rc = -1;
  char *scheme = NULL, *host = NULL;
  CURLU *u = curl_url();
  snprintf(why, whysz, "Invalid URL");
  if(!u || !url || !*url || strlen(url) > FETCH_URL_MAX)
    goto out;
  if(curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
     curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
     curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
    goto out;
  if(strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) {
    snprintf(why, whysz, "Only http and https URLs are allowed");
    goto out;
  }
  struct cidr_addr a;
  const char *cls;
  if(!allow_private && ipclass_literal(host, &a) && (cls = ipclass_internal(&a)) &&
     !cidr_list_match(allowed, &a)) {
    snprintf(why, whysz, "Refused: the URL's host is a %s; only public addresses are allowed",
             cls);
    goto out;
  }
  rc = 0;
out:
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return rc;
}

void fetch_redact(const char *url, char *out, size_t outsz)
{
  char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
  CURLU *u = curl_url();
  if(u && url && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
     curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
     curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    snprintf(out, outsz, "%s://%s%s%s%s", scheme, host, port ? ":" : "", port ? port : "",
             path ? path : "/");
  }
  else
    snprintf(out, outsz, "(unparsable URL)");
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_url_cleanup(u);
}

/* ---- one transfer ---------------------------------------------------------- */

/* Copies a header's value (trimmed) when it fits, else leaves "". */
static void fetch_header_value(const char *v, size_t n, char *out, size_t outsz)
{
  while(n && (*v == ' ' || *v == '\t'))
    v++, n--;
  while(n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  if(n >= outsz || memchr(v, '\0', n)) {
    out[0] = '\0';
    return;
  }
  memcpy(out, v, n);
  out[n] = '\0';
}

static size_t fetch_on_header(char *p, size_t size, size_t n, void *arg)
{
  struct fetch *f = arg;
  size_t len = size * n;
  f->last_ms = time_mono_ms();
  if(len >= 5 && !strncmp(p, "HTTP/", 5)) {   /* a new response: redirects reset */
    f->etag[0] = f->last_modified[0] = f->disposition[0] = '\0';
    f->accept_ranges = false;
    f->range_start = -1;
    return len;
  }
  const char *colon = memchr(p, ':', len);
  if(!colon)
    return len;
  size_t nlen = (size_t)(colon - p), vlen = len - nlen - 1;
  const char *v = colon + 1;
  if(nlen == 4 && !strncasecmp(p, "ETag", 4))
    fetch_header_value(v, vlen, f->etag, sizeof(f->etag));
  else if(nlen == 13 && !strncasecmp(p, "Last-Modified", 13))
    fetch_header_value(v, vlen, f->last_modified, sizeof(f->last_modified));
  else if(nlen == 19 && !strncasecmp(p, "Content-Disposition", 19))
    fetch_header_value(v, vlen, f->disposition, sizeof(f->disposition));
  else if(nlen == 13 && !strncasecmp(p, "Accept-Ranges", 13)) {
    char val[32];
    fetch_header_value(v, vlen, val, sizeof(val));
    f->accept_ranges = !strcasecmp(val, "bytes");
  }
  else if(nlen == 13 && !strncasecmp(p, "Content-Range", 13)) {
    char val[128];
    long long first = -1;
    fetch_header_value(v, vlen, val, sizeof(val));
    if(!strncasecmp(val, "bytes ", 6) && sscanf(val + 6, "%lld-", &first) == 1 && first >= 0)
      f->range_start = first;
  }
  return len;
}

/* Hands the head over once, before the body (or at the end of an empty one). */
static int fetch_send_head(struct fetch *f)
{
  if(f->head_sent)
    return 0;
  f->head_sent = true;
  struct fetch_head h = {.etag = f->etag, .last_modified = f->last_modified,
                         .disposition = f->disposition, .accept_ranges = f->accept_ranges,
                         .range_start = -1};
  curl_off_t cl = -1;
  curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &h.status);
  if(curl_easy_getinfo(f->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK)
    cl = -1;
  h.content_length = cl;
  if(h.status == 206)
    h.range_start = f->range_start;
  /* A part counts with what comes before it. */
  int64_t whole = cl >= 0 && h.range_start > 0 ? h.range_start + cl : cl;
  if(f->max_size && whole >= 0 && (uint64_t)whole > f->max_size) {
    f->too_big = true;
    return -1;
  }
  f->in_callback = true;
  int rc = f->ops->head(f->arg, &h);
  f->in_callback = false;
  if(rc)
    f->aborted = true;
  return rc;
}

static size_t fetch_on_data(char *p, size_t size, size_t n, void *arg)
{
  struct fetch *f = arg;
  size_t len = size * n;
  f->last_ms = time_mono_ms();
  if(f->aborted || fetch_send_head(f) != 0)
    return 0;   /* CURLE_WRITE_ERROR */
  f->in_callback = true;
  int rc = f->ops->data(f->arg, p, len);
  f->in_callback = false;
  if(rc == FETCH_DATA_PAUSE) {
    f->paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  if(rc != FETCH_DATA_OK) {
    f->aborted = true;
    return 0;
  }
  return len;
}

/* Unlinks, reports and frees a transfer that ended. */
static void fetch_finish(struct fetch *f, int rc, const char *error)
{
  for(struct fetch **pp = &fetch_list; *pp; pp = &(*pp)->next)
    if(*pp == f) {
      *pp = f->next;
      break;
    }
  curl_multi_remove_handle(fetch_multi, f->easy);
  curl_easy_cleanup(f->easy);
  curl_slist_free_all(f->headers);
  f->ops->done(f->arg, rc, error);
  free(f);
}

/* The sentence for the user when libcurl says `res`. */
static int fetch_outcome(struct fetch *f, CURLcode res, char *msg, size_t msgsz)
{
  long status = 0;
  msg[0] = '\0';
  if(res == CURLE_OK && fetch_send_head(f) != 0)
    res = CURLE_WRITE_ERROR;
  if(f->too_big || res == CURLE_FILESIZE_EXCEEDED) {
    snprintf(msg, msgsz, "File exceeds the maximum upload size");
    return FETCH_ERR_TOO_BIG;
  }
  if(f->aborted)
    return FETCH_ERR_ABORTED;
  switch(res) {
  case CURLE_OK:
    return FETCH_OK;
  case CURLE_TOO_MANY_REDIRECTS:
    snprintf(msg, msgsz, "Too many redirects (at most 5 are followed)");
    break;
  case CURLE_UNSUPPORTED_PROTOCOL:
    snprintf(msg, msgsz, "Only http and https URLs are allowed (also for redirects)");
    break;
  case CURLE_COULDNT_RESOLVE_HOST:
    snprintf(msg, msgsz, "The URL's host name could not be resolved");
    break;
  case CURLE_HTTP_RETURNED_ERROR:
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
    snprintf(msg, msgsz, "The source answered HTTP %ld", status);
    break;
  case CURLE_OPERATION_TIMEDOUT:
    snprintf(msg, msgsz, "The source did not answer in time");
    break;
  case CURLE_PARTIAL_FILE:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
    snprintf(msg, msgsz, "The source closed the connection before the whole file arrived");
    break;
  default:
    if(f->refused[0])
      snprintf(msg, msgsz, "%s", f->refused);
    else
      snprintf(msg, msgsz, "Download failed: %s", curl_easy_strerror(res));
  }
  /* A refused address fails the connect whatever libcurl calls it. */
  if(f->refused[0] && (res == CURLE_COULDNT_CONNECT || res == CURLE_OPERATION_TIMEDOUT))
    snprintf(msg, msgsz, "%s", f->refused);
  return FETCH_ERR;
}

struct fetch *fetch_begin(const struct fetch_request *rq, const struct fetch_ops *ops, void *arg,
                          const char **error)
{
  struct fetch *f = calloc(1, sizeof(*f));
  *error = "Out of memory";
  if(!f || !(f->easy = curl_easy_init())) {
    free(f);
    return NULL;
  }
  f->ops = ops;
  f->arg = arg;
  f->allow_private = rq->allow_private;
  f->allowed = rq->allowed;
  f->max_size = rq->max_size;
  f->idle_s = rq->idle_timeout_s;
  f->last_ms = time_mono_ms();
  CURL *e = f->easy;
  curl_easy_setopt(e, CURLOPT_URL, rq->url);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, rq->max_redirects);
  curl_easy_setopt(e, CURLOPT_PROXY, "");   /* no proxy from the environment */
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, rq->connect_timeout_s);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "NetraDrive-url-upload");
  /* 1 MiB receive buffer: a quarter of the recv + write rounds of 256 KiB
   * (docs/PERFORMANCE.md); one per running job. */
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 1024L * 1024);
  if(rq->max_size)
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)rq->max_size);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, fetch_opensocket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, f);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_on_data);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(e, CURLOPT_PRIVATE, f);
  f->range_start = -1;
  if(rq->range_from > 0) {
    /* The rest of the file, only if it is still the same version (else a
     * source answers 200 with the whole of the new one). */
    char range[32], *hdr = NULL;
    snprintf(range, sizeof(range), "%llu-", (unsigned long long)rq->range_from);
    curl_easy_setopt(e, CURLOPT_RANGE, range);
    if(rq->if_range && *rq->if_range && asprintf(&hdr, "If-Range: %s", rq->if_range) > 0) {
      f->headers = curl_slist_append(NULL, hdr);
      free(hdr);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
  }
  if(curl_multi_add_handle(fetch_multi, e) != CURLM_OK) {
    curl_slist_free_all(f->headers);
    curl_easy_cleanup(e);
    free(f);
    *error = "Cannot start the download";
    return NULL;
  }
  f->next = fetch_list;
  fetch_list = f;
  *error = NULL;
  return f;
}

void fetch_resume(struct fetch *f)
{
  if(f->paused) {
    f->paused = false;
    f->last_ms = time_mono_ms();   /* the wait was ours, not the source's */
    curl_easy_pause(f->easy, CURLPAUSE_CONT);   /* may call data() at once */
  }
}

void fetch_abort(struct fetch *f)
{
  f->aborted = true;
  fetch_finish(f, FETCH_ERR_ABORTED, "Cancelled");
}

/* ---- the thread ------------------------------------------------------------ */

int fetch_post(void (*fn)(void *), void *arg)
{
  struct fetch_post_item *it = malloc(sizeof(*it));
  if(!it)
    return -1;
  it->next = NULL;
  it->fn = fn;
  it->arg = arg;
  pthread_mutex_lock(&fetch_lock);
  if(!fetch_running || fetch_stopping) {
    pthread_mutex_unlock(&fetch_lock);
    free(it);
    return -1;
  }
  *fetch_posted_tail = it;
  fetch_posted_tail = &it->next;
  curl_multi_wakeup(fetch_multi);
  pthread_mutex_unlock(&fetch_lock);
  return 0;
}

/* Runs what other threads posted; true once asked to stop. */
static bool fetch_run_posted(void)
{
  pthread_mutex_lock(&fetch_lock);
  struct fetch_post_item *it = fetch_posted;
  fetch_posted = NULL;
  fetch_posted_tail = &fetch_posted;
  bool stop = fetch_stopping;
  pthread_mutex_unlock(&fetch_lock);
  while(it) {
    struct fetch_post_item *next = it->next;
    it->fn(it->arg);
    free(it);
    it = next;
  }
  return stop;
}

/* The idle timeout, ours rather than libcurl's low-speed limit: a transfer
 * we paused (the pipeline is full) is not idle, however long it waits. */
static void fetch_check_idle(void)
{
  int64_t now = time_mono_ms();
  for(struct fetch *f = fetch_list, *next; f; f = next) {
    next = f->next;
    if(!f->paused && f->idle_s > 0 && now - f->last_ms > f->idle_s * 1000) {
      char msg[128];
      snprintf(msg, sizeof(msg), "The source stopped sending (nothing for %ld s)", f->idle_s);
      fetch_finish(f, FETCH_ERR, msg);
    }
  }
}

static void *fetch_main(void *unused)
{
  pthread_setname_np(pthread_self(), "nd-fetch");   /* for top -H and perf */
  int running = 0;
  while(!fetch_run_posted()) {
    curl_multi_perform(fetch_multi, &running);
    CURLMsg *m;
    int left;
    while((m = curl_multi_info_read(fetch_multi, &left))) {
      if(m->msg != CURLMSG_DONE)
        continue;
      struct fetch *f = NULL;
      char msg[320];
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
      CURLcode res = m->data.result;
      int rc = fetch_outcome(f, res, msg, sizeof(msg));
      fetch_finish(f, rc, msg[0] ? msg : NULL);
    }
    fetch_check_idle();
    curl_multi_poll(fetch_multi, NULL, 0, 1000, NULL);
  }
  /* Stopping: end what still runs, then what was posted meanwhile. */
  while(fetch_list)
    fetch_abort(fetch_list);
  fetch_run_posted();
  return NULL;
}

int fetch_start(void)
{
  fetch_multi = curl_multi_init();
  if(!fetch_multi)
    return -1;
  fetch_running = true;
  fetch_stopping = false;
  if(pthread_create(&fetch_thread, NULL, fetch_main, NULL) != 0) {
    fetch_running = false;
    curl_multi_cleanup(fetch_multi);
    fetch_multi = NULL;
    return -1;
  }
  return 0;
}

void fetch_stop(void)
{
  pthread_mutex_lock(&fetch_lock);
  bool was = fetch_running;
  fetch_stopping = true;
  if(was)
    curl_multi_wakeup(fetch_multi);
  pthread_mutex_unlock(&fetch_lock);
  if(!was)
    return;
  pthread_join(fetch_thread, NULL);
  pthread_mutex_lock(&fetch_lock);
  fetch_running = false;
  pthread_mutex_unlock(&fetch_lock);
  curl_multi_cleanup(fetch_multi);
  fetch_multi = NULL;
}
