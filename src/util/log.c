/* log: see log.h. */
#include "util/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "util/names.h"

#define LOG_LINE_MAX 4096

static enum log_level log_min = LOG_INFO;
static enum log_format log_fmt = LOG_TEXT;
static const char *const log_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const char *const log_json_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level lvl)
{
  log_min = lvl;
}

void log_set_format(enum log_format f)
{
  log_fmt = f;
}

bool log_enabled(enum log_level lvl)
{
  return lvl >= log_min;
}

int log_level_parse(const char *s)
{
  if(!strcasecmp(s, "debug")) return LOG_DEBUG;
  if(!strcasecmp(s, "info")) return LOG_INFO;
  if(!strcasecmp(s, "warn") || !strcasecmp(s, "warning")) return LOG_WARN;
  if(!strcasecmp(s, "error")) return LOG_ERROR;
  return -1;
}

int log_format_parse(const char *s)
{
  if(!strcasecmp(s, "text")) return LOG_TEXT;
  if(!strcasecmp(s, "json")) return LOG_JSON;
  return -1;
}

/* A line being built: bounded, cut (never overrun) when full. */
struct log_line {
  char s[LOG_LINE_MAX];
  size_t n;
};

static void ll_putc(struct log_line *l, char c)
{
  if(l->n < sizeof(l->s) - 2)   /* room kept for "\n" and NUL */
    l->s[l->n++] = c;
}

static void ll_puts(struct log_line *l, const char *s)
{
  while(*s)
    ll_putc(l, *s++);
}

/* Text outside quotes: printable bytes as they are, controls as \xNN, so
 * nothing taken from a request can start a line of its own. */
static void ll_text(struct log_line *l, const char *s, bool quoted)
{
  static const char hex[] = "0123456789abcdef";
  for(; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if(c < 0x20 || c == 0x7f || (quoted && (c == '"' || c == '\\'))) {
      ll_putc(l, '\\');
      if(c == '"' || c == '\\')
        ll_putc(l, (char)c);
      else {
        ll_putc(l, 'x');
        ll_putc(l, hex[c >> 4]);
        ll_putc(l, hex[c & 15]);
      }
    }
    else
      ll_putc(l, (char)c);
  }
}

/* A JSON string; bytes of invalid UTF-8 become \u00XX so the line stays
 * valid JSON whatever a client sent. */
static void ll_json_str(struct log_line *l, const char *s)
{
  static const char hex[] = "0123456789abcdef";
  bool utf8 = utf8_valid(s, strlen(s));
  ll_putc(l, '"');
  for(; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if(c == '"' || c == '\\') {
      ll_putc(l, '\\');
      ll_putc(l, (char)c);
    }
    else if(c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
      ll_puts(l, "\\u00");
      ll_putc(l, hex[c >> 4]);
      ll_putc(l, hex[c & 15]);
    }
    else
      ll_putc(l, (char)c);
  }
  ll_putc(l, '"');
}

static void ll_start(struct log_line *l, enum log_level lvl)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char when[96];
  snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
  l->n = 0;
  if(log_fmt == LOG_JSON) {
    ll_puts(l, "{\"time\":\"");
    ll_puts(l, when);
    ll_puts(l, "\",\"level\":\"");
    ll_puts(l, log_json_names[lvl]);
    ll_puts(l, "\"");
  }
  else {
    char head[128];
    snprintf(head, sizeof(head), "%s %-5s ", when, log_names[lvl]);
    ll_puts(l, head);
  }
}

/* One write per line, so threads never interleave within a line. */
static void ll_end(struct log_line *l)
{
  if(log_fmt == LOG_JSON)
    ll_putc(l, '}');
  l->s[l->n++] = '\n';
  l->s[l->n] = 0;
  fputs(l->s, stderr);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
  if(lvl < log_min)
    return;
  char msg[LOG_LINE_MAX - 128];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  struct log_line l;
  ll_start(&l, lvl);
  if(log_fmt == LOG_JSON) {
    ll_puts(&l, ",\"msg\":");
    ll_json_str(&l, msg);
  }
  else
    ll_text(&l, msg, false);
  ll_end(&l);
}

/* key=value, the value quoted when it holds a space, a quote, an equals
 * sign or a control byte, or is empty. */
static void ll_text_field(struct log_line *l, const struct log_field *f)
{
  ll_putc(l, ' ');
  ll_puts(l, f->key);
  ll_putc(l, '=');
  char num[32];
  const char *v = f->str ? f->str : "-";
  if(f->kind == 'i') {
    snprintf(num, sizeof(num), "%lld", (long long)f->num);
    v = num;
  }
  else if(f->kind == 'f') {
    snprintf(num, sizeof(num), "%.3f", f->real);
    v = num;
  }
  bool quote = !*v || strpbrk(v, " \"=\\") != NULL;
  for(const char *p = v; !quote && *p; p++)
    quote = (unsigned char)*p < 0x20 || *p == 0x7f;
  if(quote)
    ll_putc(l, '"');
  ll_text(l, v, quote);
  if(quote)
    ll_putc(l, '"');
}

static void ll_json_field(struct log_line *l, const struct log_field *f)
{
  char num[32];
  ll_putc(l, ',');
  ll_json_str(l, f->key);
  ll_putc(l, ':');
  if(f->kind == 'i') {
    snprintf(num, sizeof(num), "%lld", (long long)f->num);
    ll_puts(l, num);
  }
  else if(f->kind == 'f') {
    snprintf(num, sizeof(num), "%.3f", f->real);
    ll_puts(l, num);
  }
  else if(f->str)
    ll_json_str(l, f->str);
  else
    ll_puts(l, "null");
}

void log_fields(enum log_level lvl, const char *msg, const struct log_field *f, size_t n)
{
  if(lvl < log_min)
    return;
  struct log_line l;
  ll_start(&l, lvl);
  if(log_fmt == LOG_JSON) {
    ll_puts(&l, ",\"msg\":");
    ll_json_str(&l, msg);
    for(size_t i = 0; i < n; i++)
      ll_json_field(&l, &f[i]);
  }
  else {
    ll_text(&l, msg, false);
    for(size_t i = 0; i < n; i++)
      ll_text_field(&l, &f[i]);
  }
  ll_end(&l);
}
