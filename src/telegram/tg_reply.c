/* tg_reply: strict Bot API envelope parsing (see tg_reply.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "telegram/tg_reply.h"

/* Copies text for a log line: control bytes become blanks, runs of blanks
 * collapse, and the result is cut (at a UTF-8 boundary) to fit. */
static void tg_copy_printable(char *out, size_t outsz, const char *s, size_t n)
{
  size_t o = 0;
  bool blank = true;
  for(size_t i = 0; i < n && o + 1 < outsz; i++) {
    unsigned char c = (unsigned char)s[i];
    if(c < 0x20 || c == 0x7f) {
      if(blank)
        continue;
      c = ' ';
    }
    blank = c == ' ';
    out[o++] = (char)c;
  }
  while(o > 0 && out[o - 1] == ' ')
    o--;
  /* Never leave half a UTF-8 sequence at the cut. */
  size_t k = o;
  while(k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80)
    k--;
  if(k > 0 && ((unsigned char)out[k - 1] & 0x80)) {
    unsigned char lead = (unsigned char)out[k - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if(o - (k - 1) < need)
      o = k - 1;
  }
  out[o] = 0;
}

/* "<title>502 Bad Gateway</title>" from an HTML error page, for the log. */
static void tg_html_title(const char *body, size_t len, char *out, size_t outsz)
{
  out[0] = 0;
  for(size_t i = 0; i + 7 <= len; i++) {
    if(strncasecmp(body + i, "<title>", 7))
      continue;
    size_t start = i + 7, end = start;
    while(end < len && body[end] != '<')
      end++;
    tg_copy_printable(out, outsz, body + start, end - start);
    return;
  }
}

void tg_reply_clear(struct tg_reply *r)
{
  json_decref(r->result);
  memset(r, 0, sizeof(*r));
  r->retry_after = -1;
}

void tg_reply_set_error(struct tg_reply *r, int http_status, const char *why)
{
  tg_reply_clear(r);
  r->http_status = http_status;
  tg_copy_printable(r->description, sizeof(r->description), why, strlen(why));
}

static int tg_not_envelope(struct tg_reply *r, const char *body, size_t len, const char *what)
{
  char title[80];
  tg_html_title(body, len, title, sizeof(title));
  r->ok = false;
  r->envelope = false;
  r->error_code = r->http_status;
  snprintf(r->description, sizeof(r->description), "%s (HTTP %d)%s%s", what, r->http_status,
           title[0] ? ": " : "", title);
  return -1;
}

int tg_reply_parse(struct tg_reply *r, int http_status, const char *body, size_t len,
                   int retry_after_header)
{
  json_t *root = NULL, *v;
  int rc = -1;
  tg_reply_clear(r);
  r->http_status = http_status;
  if(retry_after_header >= 0)
    r->retry_after = retry_after_header > TG_RETRY_AFTER_MAX ? TG_RETRY_AFTER_MAX
                                                              : retry_after_header;
  if(!body || len == 0)
    return tg_not_envelope(r, "", 0, "empty reply");
  if(len > TG_REPLY_MAX)
    return tg_not_envelope(r, "", 0, "oversized reply");
  root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
  if(!root || !json_is_object(root)) {
    rc = tg_not_envelope(r, body, len, "non-JSON reply");
    goto out;
  }
  v = json_object_get(root, "ok");
  if(!json_is_boolean(v)) {
    rc = tg_not_envelope(r, "", 0, "reply without a boolean \"ok\"");
    goto out;
  }
  if(json_is_true(v)) {
    json_t *res = json_object_get(root, "result");
    /* ok:true must come with a result and a 200; a proxy that rewrote the
     * status is not to be trusted with the body either. */
    if(!res || http_status != 200) {
      rc = tg_not_envelope(r, "", 0, res ? "ok reply with an error status" : "ok reply without a result");
      goto out;
    }
    r->envelope = true;
    r->ok = true;
    r->result = json_incref(res);
    rc = 0;
    goto out;
  }
  r->envelope = true;
  v = json_object_get(root, "error_code");
  if(json_is_integer(v) && json_integer_value(v) >= 100 && json_integer_value(v) <= 599)
    r->error_code = (int)json_integer_value(v);
  else
    r->error_code = http_status;
  v = json_object_get(root, "description");
  if(json_is_string(v))
    tg_copy_printable(r->description, sizeof(r->description), json_string_value(v),
                      json_string_length(v));
  if(!r->description[0])
    snprintf(r->description, sizeof(r->description), "error %d", r->error_code);
  v = json_object_get(json_object_get(root, "parameters"), "retry_after");
  if(json_is_integer(v) && json_integer_value(v) >= 0)
    r->retry_after = json_integer_value(v) > TG_RETRY_AFTER_MAX ? TG_RETRY_AFTER_MAX
                                                                 : (int)json_integer_value(v);
out:
  json_decref(root);
  return rc;
}
