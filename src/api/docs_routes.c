/* docs: GET /openapi.json (docs/openapi.json, embedded at build time),
 * GET /docs (Swagger UI), GET /redoc (ReDoc) and their assets under
 * /docs/assets/{name}. Everything is served from the binary: nothing is
 * loaded from another host, and the pages run under a strict
 * Content-Security-Policy (no inline script). Asset URLs carry ?v=<hash of
 * the content>, so they are cached as immutable. */
#include <stdio.h>
#include <string.h>
#include "api/api.h"
#include "api/docs_assets.h"

/* Inline styles are allowed: Swagger UI and ReDoc set style attributes and
 * ReDoc injects <style> elements. ReDoc runs its search in a blob: worker. */
#define DOCS_CSP "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
  "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " \
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
#define DOCS_IMMUTABLE "public, max-age=31536000, immutable"
#define DOCS_PAGE_MAX 2048

static const struct docs_asset *docs_find(const char *name)
{
  for(int i = 0; i < docs_asset_count; i++)
    if(!strcmp(docs_assets[i].name, name))
      return &docs_assets[i];
  return NULL;
}

/* Replies with bytes that live as long as the process. */
static int docs_reply_static(struct http_req *r, const char *type, const void *data, size_t len,
                             const char *cache)
{
  struct http_response *resp =
    http_response_buffer(len, (void *)data, HTTP_MEM_PERSISTENT);
  if(!resp)
    return http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
  http_response_header(resp, HTTP_HEADER_CONTENT_TYPE, type);
  http_response_header(resp, HTTP_HEADER_CACHE_CONTROL, cache);
  http_set_body_size(r, len);
  return http_reply_response(r, HTTP_OK, resp);
}

/* The versioned URL of an embedded asset, "" when it is not built in. */
static void docs_asset_url(const char *name, char *out, size_t outsz)
{
  const struct docs_asset *a = docs_find(name);
  if(a)
    snprintf(out, outsz, "/docs/assets/%s?v=%s", a->name, a->hash);
  else
    snprintf(out, outsz, "/docs/assets/%s", name);
}

/* Replies with an HTML page (copied: the response frees it). */
static int docs_reply_page(struct http_req *r, const char *html)
{
  size_t len = strlen(html);
  struct http_response *resp =
    http_response_buffer(len, (void *)html, HTTP_MEM_MUST_COPY);
  if(!resp)
    return http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
  http_response_header(resp, HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
  http_response_header(resp, HTTP_HEADER_CACHE_CONTROL, "no-cache");
  http_response_header(resp, HTTP_HEADER_CONTENT_SECURITY_POLICY, DOCS_CSP);
  http_response_header(resp, "Referrer-Policy", "no-referrer");
  http_set_body_size(r, len);
  return http_reply_response(r, HTTP_OK, resp);
}

static int docs_openapi(struct http_req *r)
{
  const struct docs_asset *a = docs_find("openapi.json");
  if(!a)
    return http_reply_not_found(r, "Document");
  return docs_reply_static(r, "application/json", a->data, a->len, "no-cache");
}

static int docs_swagger(struct http_req *r)
{
  char css[128], bundle[128], init[128], page[DOCS_PAGE_MAX];
  docs_asset_url("swagger-ui.css", css, sizeof(css));
  docs_asset_url("swagger-ui-bundle.js", bundle, sizeof(bundle));
  docs_asset_url("swagger-init.js", init, sizeof(init));
  snprintf(page, sizeof(page),
           "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>NetraDrive API - Swagger UI</title>\n"
           "<link rel=\"stylesheet\" href=\"%s\">\n</head>\n<body>\n"
           "<div id=\"swagger-ui\"></div>\n"
           "<script src=\"%s\"></script>\n<script src=\"%s\"></script>\n"
           "</body>\n</html>\n", css, bundle, init);
  return docs_reply_page(r, page);
}

static int docs_redoc(struct http_req *r)
{
  char bundle[128], page[DOCS_PAGE_MAX];
  docs_asset_url("redoc.standalone.js", bundle, sizeof(bundle));
  snprintf(page, sizeof(page),
           "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>NetraDrive API - ReDoc</title>\n</head>\n<body>\n"
           "<redoc spec-url=\"/openapi.json\"></redoc>\n"
           "<script src=\"%s\"></script>\n</body>\n</html>\n", bundle);
  return docs_reply_page(r, page);
}

/* GET /docs/assets/{name}?v= : immutable when ?v= names this build's
 * content, revalidated otherwise. The document itself is /openapi.json. */
static int docs_asset(struct http_req *r)
{
  const struct docs_asset *a = docs_find(http_param(r, "name"));
  if(!a || !strcmp(a->name, "openapi.json"))
    return http_reply_not_found(r, "Asset");
  const char *v = http_query(r, "v");
  bool current = v && !strcmp(v, a->hash);
  return docs_reply_static(r, a->type, a->data, a->len, current ? DOCS_IMMUTABLE : "no-cache");
}

const struct http_route api_docs_routes[] = {
  {"GET", "/openapi.json", docs_openapi, 0, NULL},
  {"GET", "/docs", docs_swagger, 0, NULL},
  {"GET", "/redoc", docs_redoc, 0, NULL},
  {"GET", "/docs/assets/{name}", docs_asset, 0, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
