/* tg_locator: chunk locator text (see tg_locator.h). */
#include <stdio.h>
#include <string.h>
#include "telegram/tg_locator.h"

#define TG_LOCATOR_PREFIX "tg1:"
#define TG_GAP_PREFIX "tg1gap:"

bool tg_file_id_valid(const char *s)
{
  size_t n = 0;
  for(; s[n]; n++) {
    char c = s[n];
    if(!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_'))
      return false;
    if(n + 1 >= TG_FILE_ID_MAX)
      return false;
  }
  return n > 0;
}

/* Parses a canonical decimal int64 ("0", "-12", never "+1", "01", "-0")
 * that ends at `stop`; returns the end or NULL. */
static const char *tg_parse_i64(const char *s, char stop, int64_t *out)
{
  bool neg = *s == '-';
  const char *p = s + neg;
  uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  if(*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
    return NULL;
  for(; *p >= '0' && *p <= '9'; p++) {
    unsigned d = (unsigned)(*p - '0');
    if(v > (lim - d) / 10)
      return NULL;
    v = v * 10 + d;
  }
  if(*p != stop || (neg && v == 0))
    return NULL;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return p;
}

static bool tg_locator_ok(const struct tg_locator *l)
{
  return l->bot_id > 0 && l->chat_id != 0 && l->message_id > 0 &&
         tg_file_id_valid(l->file_unique_id) && tg_file_id_valid(l->file_id);
}

int tg_locator_format(const struct tg_locator *l, char *out, size_t outsz)
{
  if(!tg_locator_ok(l))
    return -1;
  int n = snprintf(out, outsz, TG_LOCATOR_PREFIX "%lld:%lld:%lld:%s:%s", (long long)l->bot_id,
                   (long long)l->chat_id, (long long)l->message_id, l->file_unique_id,
                   l->file_id);
  return n > 0 && (size_t)n < outsz ? 0 : -1;
}

/* Copies the id up to `stop` (or the end) into out; returns the end. */
static const char *tg_parse_id(const char *s, char stop, char out[TG_FILE_ID_MAX])
{
  const char *end = stop ? strchr(s, stop) : s + strlen(s);
  if(!end || (size_t)(end - s) >= TG_FILE_ID_MAX)
    return NULL;
  memcpy(out, s, (size_t)(end - s));
  out[end - s] = 0;
  return tg_file_id_valid(out) ? end : NULL;
}

int tg_locator_parse(const char *s, struct tg_locator *l)
{
  memset(l, 0, sizeof(*l));
  if(strncmp(s, TG_LOCATOR_PREFIX, strlen(TG_LOCATOR_PREFIX)))
    return -1;
  s += strlen(TG_LOCATOR_PREFIX);
  if(!(s = tg_parse_i64(s, ':', &l->bot_id)) ||
     !(s = tg_parse_i64(s + 1, ':', &l->chat_id)) ||
     !(s = tg_parse_i64(s + 1, ':', &l->message_id)) ||
     !(s = tg_parse_id(s + 1, ':', l->file_unique_id)) ||
     !(s = tg_parse_id(s + 1, 0, l->file_id)) || !tg_locator_ok(l)) {
    memset(l, 0, sizeof(*l));
    return -1;
  }
  return 0;
}

int tg_gap_format(int64_t chat_id, int64_t message_id, char *out, size_t outsz)
{
  if(chat_id == 0 || message_id <= 0)
    return -1;
  int n = snprintf(out, outsz, TG_GAP_PREFIX "%lld:%lld", (long long)chat_id,
                   (long long)message_id);
  return n > 0 && (size_t)n < outsz ? 0 : -1;
}

int tg_gap_parse(const char *s, int64_t *chat_id, int64_t *message_id)
{
  if(strncmp(s, TG_GAP_PREFIX, strlen(TG_GAP_PREFIX)))
    return -1;
  s += strlen(TG_GAP_PREFIX);
  if(!(s = tg_parse_i64(s, ':', chat_id)) || !(s = tg_parse_i64(s + 1, 0, message_id)) ||
     *chat_id == 0 || *message_id <= 0)
    return -1;
  return 0;
}
