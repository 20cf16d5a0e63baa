/* router: matches "METHOD /path" against route tables with {param} segments. */
#include <stdlib.h>
#include <string.h>
#include "http/http.h"

void http_path_normalize(char *path)
{
  size_t n = strlen(path);
  /* "/api/v1/folders/" and "/api/v1/folders" are the same route (no redirect). */
  while(n > 1 && path[n - 1] == '/')
    path[--n] = 0;
}

/* Compares one pattern against the path; fills params on success. Params
 * point into `path`, which the caller owns, so segments are cut in a copy. */
static bool route_matches(const char *pattern, const char *path, struct http_req *r)
{
  const char *p = pattern;
  const char *s = path;
  const char *vals[HTTP_MAX_PARAMS];
  size_t lens[HTTP_MAX_PARAMS];
  int np = 0;
  while(*p && *s) {
    if(*p != '/' || *s != '/')
      return false;
    p++;
    s++;
    const char *pend = strchr(p, '/');
    size_t plen = pend ? (size_t)(pend - p) : strlen(p);
    const char *send = strchr(s, '/');
    size_t slen = send ? (size_t)(send - s) : strlen(s);
    if(plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
      if(slen == 0 || np >= HTTP_MAX_PARAMS)
        return false;
      r->param_names[np] = p + 1;   /* name runs up to the '}' */
      vals[np] = s;
      lens[np] = slen;
      np++;
    }
    else if(plen != slen || memcmp(p, s, plen) != 0)
      return false;
    p += plen;
    s += slen;
  }
  if(*p || *s)
    return false;
  for(int i = 0; i < r->nparams; i++)
    free(r->param_values[i]);
  r->nparams = 0;
  for(int i = 0; i < np; i++) {
    r->param_values[i] = strndup(vals[i], lens[i]);
    if(!r->param_values[i])
      return false;
    r->nparams = i + 1;
  }
  return true;
}

/* A prefix route ("/dav") owns itself and everything below it ("/dav/a/b"). */
static bool prefix_matches(const char *prefix, const char *path)
{
  size_t n = strlen(prefix);
  return !strncmp(prefix, path, n) && (path[n] == 0 || path[n] == '/');
}

enum http_match http_route_match(const struct http_route *const *tables, const char *method,
                                 struct http_req *r)
{
  bool path_seen = false;
  bool is_head = !strcmp(method, "HEAD");
  for(const struct http_route *const *t = tables; t && *t; t++) {
    for(const struct http_route *rt = *t; rt->method; rt++) {
      if((rt->flags & HTTP_PREFIX) ? !prefix_matches(rt->pattern, r->path)
                                   : !route_matches(rt->pattern, r->path, r))
        continue;
      path_seen = true;
      if(!strcmp(rt->method, method) || !strcmp(rt->method, "*") ||
         (is_head && !strcmp(rt->method, "GET"))) {
        r->route = rt;
        return HTTP_MATCH_OK;
      }
    }
  }
  return path_seen ? HTTP_MATCH_METHOD : HTTP_MATCH_NONE;
}

const char *http_param(const struct http_req *r, const char *name)
{
  size_t n = strlen(name);
  for(int i = 0; i < r->nparams; i++) {
    if(!strncmp(r->param_names[i], name, n) && r->param_names[i][n] == '}')
      return r->param_values[i];
  }
  return "";
}
