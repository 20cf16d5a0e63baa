#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "drive/mail.h"
#include "util/buf.h"
#include "util/id.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/validate.h"

#define MAIL_MAX_BYTES (64 * 1024) /* one formatted message */
#define MAIL_LINE_MAX 998          /* RFC 5322 §2.1.1 */
#define MAIL_ATTEMPTS 3
#define MAIL_CONNECT_TIMEOUT_S 10L
#define MAIL_TIMEOUT_S 60L

struct mail_msg {
  struct mail_msg *next;
  char *rcpt;  /* "<addr>" */
  char *text;  /* the whole message */
  size_t len;
};

static pthread_mutex_t mail_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mail_cond = PTHREAD_COND_INITIALIZER;
static pthread_t mail_thread;
static bool mail_running;
static bool mail_stopping;
static atomic_int_fast64_t mail_deadline_ms; /* while stopping: give up after this */
static struct mail_msg *mail_head, *mail_tail;
static int mail_count;
static char *mail_url;
static char *mail_from_header;  /* as configured, for the From header */
static char *mail_envelope;     /* "<addr>" for MAIL FROM */
static char *mail_domain;       /* for Message-ID */

static void msg_free(struct mail_msg *m)
{
  if(!m)
    return;
  free(m->rcpt);
  free(m->text);
  free(m);
}

/* ---- formatting ---- */

/* RFC 5322 date, always English names and UTC (no locale involved). */
static void mail_date(int64_t now_ms, char out[40])
{
  static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = (time_t)(now_ms / 1000);
  struct tm tm;
  if(!gmtime_r(&t, &tm)) {
    snprintf(out, 40, "Thu, 01 Jan 1970 00:00:00 +0000");
    return;
  }
  snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
           months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A header value: printable ASCII only, so no CR/LF can end the header early. */
static bool header_value_ok(const char *s)
{
  if(!s || !*s)
    return false;
  for(; *s; s++)
    if((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
      return false;
  return true;
}

/* Appends `body` with each line ending converted to CRLF. Refuses bare CR,
 * control characters other than tab, and lines longer than SMTP allows. */
static int body_append(buf_t *b, const char *body)
{
  size_t line = 0;
  for(const char *p = body; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if(c == '\r' && p[1] == '\n')
      continue; /* CRLF given: emitted with the LF */
    if(c == '\n') {
      if(buf_append(b, "\r\n", 2))
        return -1;
      line = 0;
      continue;
    }
    if((c < 0x20 && c != '\t') || c == 0x7f || ++line > MAIL_LINE_MAX)
      return -1;
    if(buf_append(b, p, 1))
      return -1;
  }
  if(line && buf_append(b, "\r\n", 2))
    return -1;
  return 0;
}

int mail_format(char **out, const char *from_header, const char *msgid_domain, const char *to,
                const char *subject, const char *body, int64_t now_ms)
{
  int rc = -1;
  buf_t b;
  char date[40], msgid[ID_LEN + 1];
  *out = NULL;
  buf_init(&b, MAIL_MAX_BYTES);
  if(!header_value_ok(from_header) || !header_value_ok(msgid_domain) ||
     validate_email(to) != NULL || !header_value_ok(subject) || !body)
    goto out;
  mail_date(now_ms, date);
  id_new(msgid);
  if(buf_printf(&b,
                "From: %s\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\n"
                "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n",
                from_header, to, subject, date, msgid, msgid_domain) ||
     body_append(&b, body))
    goto out;
  *out = buf_steal(&b);
  rc = 0;
out:
  buf_free(&b);
  return rc;
}

/* ---- sending ---- */

struct mail_reader {
  const char *data;
  size_t len, off;
};

static size_t mail_read_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
  struct mail_reader *rd = userdata;
  size_t room = size * nmemb, left = rd->len - rd->off;
  size_t n = left < room ? left : room;
  memcpy(ptr, rd->data + rd->off, n);
  rd->off += n;
  return n;
}

/* Aborts a transfer that runs past the shutdown deadline. */
static int mail_progress_cb(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
                            curl_off_t ultotal, curl_off_t ulnow)
{
  int64_t deadline = atomic_load(&mail_deadline_ms);
  return deadline && time_mono_ms() >= deadline;
}

static CURLcode mail_send_once(const struct mail_msg *m, char *errbuf)
{
  struct mail_reader rd = {m->text, m->len, 0};
  struct curl_slist *rcpt = NULL;
  CURLcode rc = CURLE_OUT_OF_MEMORY;
  CURL *c = curl_easy_init();
  if(!c)
    return rc;
  rcpt = curl_slist_append(NULL, m->rcpt);
  if(!rcpt)
    goto out;
  errbuf[0] = 0;
  curl_easy_setopt(c, CURLOPT_URL, mail_url);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_envelope);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, mail_read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &rd);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->len);
  /* smtp:// upgrades with STARTTLS when the server offers it; smtps:// is
   * TLS from the start. */
  curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, MAIL_CONNECT_TIMEOUT_S);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, MAIL_TIMEOUT_S);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, mail_progress_cb);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  rc = curl_easy_perform(c);
out:
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(c);
  return rc;
}

/* Waits up to `ms` unless a stop comes first. Caller holds mail_lock. */
static void mail_wait_locked(int64_t ms)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += (time_t)(ms / 1000);
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if(ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  while(!mail_stopping && pthread_cond_timedwait(&mail_cond, &mail_lock, &ts) != ETIMEDOUT)
    ;
}

static void mail_deliver(struct mail_msg *m)
{
  char errbuf[CURL_ERROR_SIZE];
  for(int attempt = 1;; attempt++) {
    CURLcode rc = mail_send_once(m, errbuf);
    if(rc == CURLE_OK) {
      log_info("mail: sent to %s", m->rcpt);
      return;
    }
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    pthread_mutex_lock(&mail_lock);
    bool stopping = mail_stopping;
    if(attempt < MAIL_ATTEMPTS && !stopping) {
      log_warn("mail: sending to %s failed (%s); retrying", m->rcpt, why);
      mail_wait_locked(attempt * 5000);
      stopping = mail_stopping;
    }
    pthread_mutex_unlock(&mail_lock);
    if(attempt >= MAIL_ATTEMPTS || stopping) {
      log_error("mail: giving up on a message to %s: %s", m->rcpt, why);
      return;
    }
  }
}

static void *mail_worker(void *arg)
{
  pthread_mutex_lock(&mail_lock);
  for(;;) {
    while(!mail_head && !mail_stopping)
      pthread_cond_wait(&mail_cond, &mail_lock);
    if(!mail_head)
      break; /* stopping and drained */
    int64_t deadline = atomic_load(&mail_deadline_ms);
    if(deadline && time_mono_ms() >= deadline) {
      log_warn("mail: shutting down; %d queued message(s) not sent", mail_count);
      while(mail_head) {
        struct mail_msg *m = mail_head;
        mail_head = m->next;
        msg_free(m);
      }
      mail_tail = NULL;
      mail_count = 0;
      break;
    }
    struct mail_msg *m = mail_head;
    mail_head = m->next;
    if(!mail_head)
      mail_tail = NULL;
    mail_count--;
    pthread_mutex_unlock(&mail_lock);
    mail_deliver(m);
    msg_free(m);
    pthread_mutex_lock(&mail_lock);
  }
  pthread_mutex_unlock(&mail_lock);
  return NULL;
}

/* ---- lifecycle ---- */

/* Splits "Name <addr@host>" or "addr@host" into the envelope "<addr@host>"
 * and the Message-ID domain "host". */
static int mail_parse_from(const char *from)
{
  const char *lt = strchr(from, '<');
  const char *gt = lt ? strchr(lt, '>') : NULL;
  const char *a = lt && gt ? lt + 1 : from;
  size_t n = lt && gt ? (size_t)(gt - a) : strlen(from);
  const char *at = memchr(a, '@', n);
  if(!at || at == a || at + 1 == a + n)
    return -1;
  if(asprintf(&mail_envelope, "<%.*s>", (int)n, a) < 0) {
    mail_envelope = NULL;
    return -1;
  }
  mail_domain = strndup(at + 1, (size_t)(a + n - at - 1));
  return mail_domain ? 0 : -1;
}

int mail_start(const char *smtp_url, const char *from, char *err, size_t errlen)
{
  if(!smtp_url || !*smtp_url)
    return 0;
  if(!header_value_ok(from) || mail_parse_from(from) != 0) {
    snprintf(err, errlen, "SMTP_FROM: must be an email address");
    goto fail;
  }
  mail_url = strdup(smtp_url);
  mail_from_header = strdup(from);
  if(!mail_url || !mail_from_header) {
    snprintf(err, errlen, "mail: out of memory");
    goto fail;
  }
  mail_stopping = false;
  atomic_store(&mail_deadline_ms, 0);
  if(pthread_create(&mail_thread, NULL, mail_worker, NULL) != 0) {
    snprintf(err, errlen, "mail: cannot start the mail thread");
    goto fail;
  }
  mail_running = true;
  return 0;
fail:
  free(mail_url);
  free(mail_from_header);
  free(mail_envelope);
  free(mail_domain);
  mail_url = mail_from_header = mail_envelope = mail_domain = NULL;
  return -1;
}

bool mail_enabled(void)
{
  pthread_mutex_lock(&mail_lock);
  bool on = mail_running && !mail_stopping;
  pthread_mutex_unlock(&mail_lock);
  return on;
}

int mail_queue(const char *to, const char *subject, const char *body)
{
  const char *why = NULL;
  struct mail_msg *m = calloc(1, sizeof(*m));
  if(!m || asprintf(&m->rcpt, "<%s>", to) < 0) {
    if(m)
      m->rcpt = NULL;
    why = "out of memory";
    goto fail;
  }
  pthread_mutex_lock(&mail_lock);
  /* Formatted under the lock: mail_stop frees the From values. */
  if(!mail_running || mail_stopping)
    why = "SMTP_URL is not set";
  else if(mail_count >= MAIL_QUEUE_MAX)
    why = "the mail queue is full";
  else if(mail_format(&m->text, mail_from_header, mail_domain, to, subject, body,
                      time_now_ms()) != 0)
    why = "invalid recipient, subject or body";
  if(why) {
    pthread_mutex_unlock(&mail_lock);
    goto fail;
  }
  m->len = strlen(m->text);
  if(mail_tail)
    mail_tail->next = m;
  else
    mail_head = m;
  mail_tail = m;
  mail_count++;
  pthread_cond_signal(&mail_cond);
  pthread_mutex_unlock(&mail_lock);
  log_info("mail: queued '%s' to %s", subject, to);
  return 0;
fail:
  /* Only values that passed the checks are echoed: no CR/LF into the log. */
  log_warn("mail: '%s' to %s not sent: %s", header_value_ok(subject) ? subject : "(invalid)",
           validate_email(to) == NULL ? to : "(invalid)", why);
  msg_free(m);
  return -1;
}

void mail_stop(int grace_ms)
{
  pthread_mutex_lock(&mail_lock);
  if(!mail_running) {
    pthread_mutex_unlock(&mail_lock);
    return;
  }
  mail_stopping = true;
  atomic_store(&mail_deadline_ms, time_mono_ms() + (grace_ms > 0 ? grace_ms : 1));
  pthread_cond_broadcast(&mail_cond);
  pthread_mutex_unlock(&mail_lock);
  pthread_join(mail_thread, NULL);
  mail_running = false;
  free(mail_url);
  free(mail_from_header);
  free(mail_envelope);
  free(mail_domain);
  mail_url = mail_from_header = mail_envelope = mail_domain = NULL;
}
