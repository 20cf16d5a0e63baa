/* listing: parsing of the listing query string. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "api/list_params.h"
#include "api/render.h"
#include "util/jsonw.h"
#include "util/parse.h"

/* An integer of decimal digits only (no sign, no spaces) within [min, max]. */
static int listing_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
  int64_t v = 0;
  if(!*s)
    return -1;
  for(; *s; s++) {
    if(*s < '0' || *s > '9')
      return -1;
    if(v > (INT64_MAX - (*s - '0')) / 10)
      return -1;
    v = v * 10 + (*s - '0');
  }
  if(v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

/* The value of `key`, or NULL when absent or empty. */
static const char *listing_value(listing_get_fn get, const void *ctx, const char *key)
{
  const char *v = get(ctx, key);
  return v && *v ? v : NULL;
}

const char *listing_parse(struct drive_listing *out, listing_get_fn get, const void *ctx,
                          const char *parent_key)
{
  static const char *const sorts[] = {
    [DRIVE_SORT_NAME] = "name",
    [DRIVE_SORT_SIZE] = "size",
    [DRIVE_SORT_CREATED] = "created_at",
    [DRIVE_SORT_UPDATED] = "updated_at",
  };
  const char *v;
  memset(out, 0, sizeof(*out));
  out->sort = DRIVE_SORT_NAME;
  out->limit = DRIVE_LIST_DEFAULT;

  v = listing_value(get, ctx, parent_key);
  out->parent_id = v && strcmp(v, "root") != 0 ? v : NULL;

  v = listing_value(get, ctx, "include_deleted");
  if(v && parse_bool(v, &out->in_bin) != 0)
    return "include_deleted must be true or false";
  v = listing_value(get, ctx, "is_starred");
  if(v && parse_bool(v, &out->starred) != 0)
    return "is_starred must be true or false";

  v = listing_value(get, ctx, "sort");
  if(v) {
    size_t i = 0;
    while(i < sizeof(sorts) / sizeof(sorts[0]) && strcasecmp(v, sorts[i]) != 0)
      i++;
    if(i == sizeof(sorts) / sizeof(sorts[0]))
      return "sort must be one of name, size, created_at, updated_at";
    out->sort = (enum drive_sort)i;
  }
  v = listing_value(get, ctx, "order");
  if(v) {
    if(!strcasecmp(v, "desc"))
      out->desc = true;
    else if(strcasecmp(v, "asc") != 0)
      return "order must be asc or desc";
  }
  v = listing_value(get, ctx, "limit");
  if(v && listing_int(v, 1, DRIVE_LIST_MAX, &out->limit) != 0)
    return "limit must be an integer from 1 to 10000";
  v = listing_value(get, ctx, "offset");
  if(v && listing_int(v, 0, INT64_MAX, &out->offset) != 0)
    return "offset must be a non-negative integer";
  return NULL;
}

static const char *listing_http_get(const void *ctx, const char *key)
{
  return http_query((const struct http_req *)ctx, key);
}

const char *listing_from_request(struct drive_listing *out, const struct http_req *r,
                                 const char *parent_key)
{
  return listing_parse(out, listing_http_get, r, parent_key);
}

void listing_page_init(struct listing_page *p)
{
  buf_init(&p->out, LISTING_REPLY_MAX);
  p->count = 0;
  /* A page of a hundred rows in one allocation; bigger ones grow by doubling. */
  p->rc = buf_reserve(&p->out, LISTING_REPLY_RESERVE);
  if(p->rc == BUF_OK)
    p->rc = jsonw_raw(&p->out, "[");
}

int listing_page_next(struct listing_page *p)
{
  if(p->rc == BUF_OK && p->count++ > 0)
    p->rc = jsonw_raw(&p->out, ",");
  return p->rc == BUF_OK ? DRIVE_OK : DRIVE_INTERNAL;
}

int listing_page_done(struct listing_page *p, int rc)
{
  if(p->rc == BUF_OK)
    p->rc = rc == BUF_OK ? BUF_OK : rc;
  return p->rc == BUF_OK ? DRIVE_OK : DRIVE_INTERNAL;
}

void listing_page_free(struct listing_page *p)
{
  buf_free(&p->out);
}

int listing_reply(struct http_req *r, struct listing_page *p, int64_t total,
                  const struct listing_key *k)
{
  char count[24];
  snprintf(count, sizeof(count), "%" PRId64, total);
  if(p->rc == BUF_OK)
    p->rc = jsonw_raw(&p->out, "]");
  if(p->rc == BUF_OK && k)
    listing_cache_put(k, p->out.data, p->out.len, total);
  http_add_header(r, "X-Total-Count", count);
  return render_reply(r, HTTP_OK, &p->out, p->rc);
}
