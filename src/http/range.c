/* range: RFC 9110 byte ranges and conditional requests (see range.h). Every
 * parser here reads a NUL-terminated header value once, left to right, never
 * allocates, and treats anything it does not understand as "absent". */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "http/range.h"

static bool is_ows(char c)
{
  return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p)
{
  while(is_ows(*p))
    p++;
  return p;
}

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive prefix test on ASCII. */
static bool prefix_ci(const char *s, const char *prefix)
{
  for(; *prefix; s++, prefix++)
    if(lower(*s) != lower(*prefix))
      return false;
  return true;
}

/* 1*DIGIT, saturating at UINT64_MAX: a number too big for 64 bits is still
 * bigger than any size, which is all a range comparison needs. */
static bool parse_u64(const char **pp, uint64_t *out)
{
  const char *p = *pp;
  uint64_t v = 0;
  if(!is_digit(*p))
    return false;
  for(; is_digit(*p); p++) {
    unsigned d = (unsigned)(*p - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  *pp = p;
  *out = v;
  return true;
}

/* ---- Range ---- */

enum range_result range_parse(const char *value, uint64_t size, struct range *out, size_t max,
                              size_t *n)
{
  size_t specs = 0, kept = 0;
  *n = 0;
  if(!value)
    return RANGE_IGNORE;
  const char *p = skip_ows(value);
  if(!prefix_ci(p, "bytes="))
    return RANGE_IGNORE;   /* another unit, or not a ranges-specifier */
  p += 6;
  /* range-set = 1#range-spec: OWS around elements, empty elements allowed. */
  for(;;) {
    p = skip_ows(p);
    if(*p == ',') {
      p++;
      continue;
    }
    if(!*p)
      break;
    uint64_t first = 0, last = UINT64_MAX;
    bool suffix = *p == '-';
    if(suffix) {
      p++;
      if(!parse_u64(&p, &last))   /* `last` holds the suffix length here */
        return RANGE_IGNORE;
    }
    else {
      if(!parse_u64(&p, &first) || *p != '-')
        return RANGE_IGNORE;
      p++;
      if(is_digit(*p) && !parse_u64(&p, &last))
        return RANGE_IGNORE;
      if(last < first)
        return RANGE_IGNORE;   /* invalid range-spec (§14.1.1): ignore the header */
    }
    p = skip_ows(p);
    if(*p && *p != ',')
      return RANGE_IGNORE;
    if(++specs > max)
      return RANGE_IGNORE;     /* too many: serve it all rather than 416 */
    /* Satisfiable (§14.1.1): a first-pos inside the content, or a non-zero
     * suffix of a non-empty content. Clamp to the content. */
    struct range r;
    if(suffix) {
      if(last == 0 || size == 0)
        continue;
      r.first = last >= size ? 0 : size - last;
      r.last = size - 1;
    }
    else {
      if(first >= size)
        continue;
      r.first = first;
      r.last = last >= size ? size - 1 : last;
    }
    out[kept++] = r;
  }
  if(specs == 0)
    return RANGE_IGNORE;       /* "bytes=" or "bytes= , ," */
  *n = kept;
  return kept ? RANGE_OK : RANGE_UNSATISFIABLE;
}

size_t range_coalesce(struct range *rs, size_t n, uint64_t gap)
{
  if(n < 2)
    return n;
  /* Insertion sort: n is at most RANGE_MAX. */
  for(size_t i = 1; i < n; i++) {
    struct range key = rs[i];
    size_t j = i;
    while(j > 0 && (rs[j - 1].first > key.first ||
                    (rs[j - 1].first == key.first && rs[j - 1].last > key.last))) {
      rs[j] = rs[j - 1];
      j--;
    }
    rs[j] = key;
  }
  size_t out = 0;
  for(size_t i = 1; i < n; i++) {
    struct range *cur = &rs[out];
    /* Overlapping, or the bytes between them are fewer than `gap`. */
    if(rs[i].first <= cur->last || rs[i].first - cur->last - 1 < gap) {
      if(rs[i].last > cur->last)
        cur->last = rs[i].last;
    }
    else
      rs[++out] = rs[i];
  }
  return out + 1;
}

/* ---- entity tags ---- */

/* etagc = %x21 / %x23-7E / obs-text */
static bool is_etagc(unsigned char c)
{
  return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE. On success *pp moves past it
 * and (op, oplen) is the opaque-tag including its quotes. */
static bool parse_etag(const char **pp, bool *weak, const char **op, size_t *oplen)
{
  const char *p = *pp;
  *weak = false;
  if(p[0] == 'W' && p[1] == '/') {
    *weak = true;
    p += 2;
  }
  if(*p != '"')
    return false;
  const char *start = p++;
  while(is_etagc((unsigned char)*p))
    p++;
  if(*p != '"')
    return false;
  p++;
  *op = start;
  *oplen = (size_t)(p - start);
  *pp = p;
  return true;
}

bool range_etag_match(const char *list, const char *etag, bool weak)
{
  bool ours_weak, theirs_weak;
  const char *ours, *theirs;
  size_t ours_len, theirs_len;
  if(!list || !etag)
    return false;
  const char *e = etag;
  if(!parse_etag(&e, &ours_weak, &ours, &ours_len) || *e)
    return false;
  const char *p = skip_ows(list);
  if(*p == '*')
    return !*skip_ows(p + 1);
  for(;;) {
    p = skip_ows(p);
    if(*p == ',') {
      p++;
      continue;
    }
    if(!*p)
      return false;
    if(!parse_etag(&p, &theirs_weak, &theirs, &theirs_len))
      return false;
    /* Strong comparison needs both tags strong; weak ignores the W/. */
    if(theirs_len == ours_len && !memcmp(theirs, ours, ours_len) &&
       (weak || (!theirs_weak && !ours_weak)))
      return true;
    p = skip_ows(p);
    if(*p && *p != ',')
      return false;
  }
}

/* ---- HTTP-date ---- */

static const char *const day_short[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const day_long[7] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
static const char *const month_short[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm): exact for any year, no time zone, no libc. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
  static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Exactly `n` digits. */
static bool parse_fixed(const char **pp, int n, unsigned *out)
{
  unsigned v = 0;
  for(int i = 0; i < n; i++) {
    if(!is_digit((*pp)[i]))
      return false;
    v = v * 10 + (unsigned)((*pp)[i] - '0');
  }
  *pp += n;
  *out = v;
  return true;
}

static bool parse_month(const char **pp, unsigned *m)
{
  for(unsigned i = 0; i < 12; i++)
    if(prefix_ci(*pp, month_short[i])) {
      *pp += 3;
      *m = i + 1;
      return true;
    }
  return false;
}

static bool parse_char(const char **pp, char c)
{
  if(**pp != c)
    return false;
  (*pp)++;
  return true;
}

/* time-of-day = hour ":" minute ":" second */
static bool parse_time(const char **pp, unsigned *h, unsigned *mi, unsigned *s)
{
  return parse_fixed(pp, 2, h) && parse_char(pp, ':') && parse_fixed(pp, 2, mi) &&
         parse_char(pp, ':') && parse_fixed(pp, 2, s) && *h < 24 && *mi < 60 && *s <= 60;
}

int range_date_parse(const char *s, int64_t *secs)
{
  unsigned day = 0, mon = 0, year = 0, h = 0, mi = 0, sec = 0;
  int64_t y;
  if(!s)
    return -1;
  const char *p = skip_ows(s);
  size_t wl = 0;
  while((p[wl] >= 'a' && p[wl] <= 'z') || (p[wl] >= 'A' && p[wl] <= 'Z'))
    wl++;
  bool named = false;
  for(int i = 0; i < 7 && !named; i++)
    named = (wl == 3 && prefix_ci(p, day_short[i])) ||
            (wl == strlen(day_long[i]) && prefix_ci(p, day_long[i]));
  if(!named)
    return -1;
  p += wl;
  if(parse_char(&p, ',')) {
    /* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" or
     * RFC 850     "Sunday, 06-Nov-94 08:49:37 GMT" */
    if(!parse_char(&p, ' ') || !parse_fixed(&p, 2, &day))
      return -1;
    if(parse_char(&p, ' ')) {
      if(!parse_month(&p, &mon) || !parse_char(&p, ' ') || !parse_fixed(&p, 4, &year))
        return -1;
      y = year;
    }
    else {
      if(!parse_char(&p, '-') || !parse_month(&p, &mon) || !parse_char(&p, '-') ||
         !parse_fixed(&p, 2, &year))
        return -1;
      y = year < 70 ? 2000 + year : 1900 + year;   /* no clock here: a fixed pivot */
    }
    if(!parse_char(&p, ' ') || !parse_time(&p, &h, &mi, &sec) || !parse_char(&p, ' ') ||
       !prefix_ci(p, "GMT"))
      return -1;
    p += 3;
  }
  else {
    /* asctime "Sun Nov  6 08:49:37 1994" */
    if(wl != 3 || !parse_char(&p, ' ') || !parse_month(&p, &mon) || !parse_char(&p, ' '))
      return -1;
    if(parse_char(&p, ' ')) {
      if(!parse_fixed(&p, 1, &day))
        return -1;
    }
    else if(!parse_fixed(&p, 2, &day))
      return -1;
    if(!parse_char(&p, ' ') || !parse_time(&p, &h, &mi, &sec) || !parse_char(&p, ' ') ||
       !parse_fixed(&p, 4, &year))
      return -1;
    y = year;
  }
  if(*skip_ows(p) || day < 1 || day > month_days(y, mon))
    return -1;
  *secs = days_from_civil(y, mon, day) * 86400 + h * 3600 + mi * 60 + sec;
  return 0;
}

/* Writes `v` as exactly `n` decimal digits, zero-padded. */
static void put_digits(char *out, unsigned v, int n)
{
  for(int i = n - 1; i >= 0; i--, v /= 10)
    out[i] = (char)('0' + v % 10);
}

void range_date_format(int64_t secs, char out[RANGE_DATE_LEN])
{
  const int64_t lo = days_from_civil(0, 1, 1) * 86400;
  const int64_t hi = days_from_civil(9999, 12, 31) * 86400 + 86399;
  int64_t y;
  unsigned m, d;
  if(secs < lo)
    secs = lo;
  if(secs > hi)
    secs = hi;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  civil_from_days(days, &y, &m, &d);
  unsigned wday = (unsigned)(((days % 7) + 7 + 4) % 7);   /* 1970-01-01 was a Thursday */
  unsigned r = (unsigned)rem;
  /* Fixed layout "Sun, 06 Nov 1994 08:49:37 GMT": written by position. */
  memcpy(out, day_short[wday], 3);
  memcpy(out + 3, ", ", 2);
  put_digits(out + 5, d, 2);
  out[7] = ' ';
  memcpy(out + 8, month_short[m - 1], 3);
  out[11] = ' ';
  put_digits(out + 12, (unsigned)y, 4);
  out[16] = ' ';
  put_digits(out + 17, r / 3600, 2);
  out[19] = ':';
  put_digits(out + 20, r / 60 % 60, 2);
  out[22] = ':';
  put_digits(out + 23, r % 60, 2);
  memcpy(out + 25, " GMT", 5);
}

/* ---- evaluation ---- */

/* If-Range (§13.1.5): a strong tag equal to ours, or exactly our date. */
static bool if_range_holds(const char *v, const char *etag, int64_t mtime)
{
  const char *p = skip_ows(v);
  if(*p == '"' || (p[0] == 'W' && p[1] == '/')) {
    bool weak;
    const char *op;
    size_t oplen;
    if(!parse_etag(&p, &weak, &op, &oplen) || *skip_ows(p) || weak)
      return false;
    return strlen(etag) == oplen && !memcmp(etag, op, oplen);
  }
  int64_t t;
  return range_date_parse(p, &t) == 0 && t == mtime;
}

void range_evaluate(const struct range_request *rq, uint64_t size, const char *etag,
                    int64_t mtime, int64_t now, struct range_plan *plan)
{
  int64_t t;
  size_t n = 0;
  plan->status = 200;
  plan->n = 0;
  /* 1-2: the client's copy must be the current one. */
  if(rq->if_match) {
    if(!range_etag_match(rq->if_match, etag, false)) {
      plan->status = 412;
      return;
    }
  }
  else if(rq->if_unmodified_since && range_date_parse(rq->if_unmodified_since, &t) == 0 &&
          mtime > t) {
    plan->status = 412;
    return;
  }
  /* 3-4: the client already has it. */
  if(rq->if_none_match) {
    if(range_etag_match(rq->if_none_match, etag, true)) {
      plan->status = 304;
      return;
    }
  }
  /* A date in the future is invalid (RFC 9110 §13.1.3): the client cannot
   * have seen that version, so the precondition is ignored. */
  else if(rq->if_modified_since && range_date_parse(rq->if_modified_since, &t) == 0 &&
          t <= now && mtime <= t) {
    plan->status = 304;
    return;
  }
  /* 5: Range, unless If-Range says the client's partial copy is stale. */
  if(!rq->is_get || !rq->range)
    return;
  if(rq->if_range && !if_range_holds(rq->if_range, etag, mtime))
    return;
  switch(range_parse(rq->range, size, plan->ranges, RANGE_MAX, &n)) {
  case RANGE_IGNORE:
    return;
  case RANGE_UNSATISFIABLE:
    plan->status = 416;
    return;
  case RANGE_OK:
    plan->n = range_coalesce(plan->ranges, n, RANGE_COALESCE_GAP);
    plan->status = 206;
    return;
  }
}
