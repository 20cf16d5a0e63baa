/* search: GET /api/v1/files/search?q=&limit= (API §5). Parses the query,
 * calls drive/search and renders {"folders":[Folder],"files":[File]}. */
#include <errno.h>
#include <stdlib.h>
#include "api/api.h"
#include "api/render.h"
#include "drive/search.h"

/* Parses limit: absent or empty = default; else a decimal 1..max. */
static int search_parse_limit(const char *s, int64_t *out)
{
  if(!s || !*s) {
    *out = SEARCH_LIMIT_DEFAULT;
    return 0;
  }
  if(*s < '0' || *s > '9')
    return -1;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if(errno || *end || v < 1 || v > SEARCH_LIMIT_MAX)
    return -1;
  *out = (int64_t)v;
  return 0;
}

/* Appends one folder to reply["folders"]. */
static int search_add_folder(const struct folder *f, void *arg)
{
  json_t *arr = json_object_get((json_t *)arg, "folders");
  return json_array_append_new(arr, render_folder(f)) == 0 ? DRIVE_OK : DRIVE_DB;
}

/* Appends one file to reply["files"]. */
static int search_add_file(const struct file_rec *f, void *arg)
{
  json_t *arr = json_object_get((json_t *)arg, "files");
  return json_array_append_new(arr, render_file(f)) == 0 ? DRIVE_OK : DRIVE_DB;
}

/* GET /api/v1/files/search?q=&limit= */
static int search_files(struct http_req *r)
{
  char key[SEARCH_QUERY_MAX + 1];
  size_t qlen = 0;
  int64_t limit;
  const char *q = http_query_n(r, "q", &qlen);
  int rc = search_prepare(q, q ? qlen : 0, key, sizeof(key));
  if(rc != DRIVE_OK)
    return api_reply_error(r, rc, rc == DRIVE_MISSING ? "Query must not be empty"
                                                      : "Query must be valid UTF-8 text");
  if(search_parse_limit(http_query(r, "limit"), &limit) != 0)
    return http_reply_error(r, MHD_HTTP_BAD_REQUEST, "limit must be an integer from 1 to 1000");

  json_t *res = json_pack("{s:[],s:[]}", "folders", "files");
  if(!res)
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  struct search_sink sink = {search_add_folder, search_add_file, res};
  /* An empty key is a query longer than any name: it matches nothing. */
  rc = key[0] ? search_names(api_user_id(r), key, limit, &sink) : DRIVE_OK;
  if(rc != DRIVE_OK) {
    json_decref(res);
    return api_reply_error(r, rc, NULL);
  }
  return http_reply_json(r, MHD_HTTP_OK, res);
}

const struct http_route api_search_routes[] = {
  {"GET", "/api/v1/files/search", search_files, HTTP_AUTH, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
