/* api/docs_assets: the files /openapi.json, /docs and /redoc serve, embedded
 * at build time (tools/gen-assets.sh writes the table from docs/openapi.json,
 * src/api/ui/ and the pinned npm packages in node_modules/). */
#ifndef NETRA_API_DOCS_ASSETS_H
#define NETRA_API_DOCS_ASSETS_H
#include <stddef.h>

struct docs_asset {
  const char *name;          /* "swagger-ui-bundle.js" */
  const char *type;          /* its Content-Type */
  const unsigned char *data; /* the bytes (followed by a NUL) */
  size_t len;
  const char *hash;          /* 16 hex digits of its SHA-256: the ?v= of its URL */
};

extern const struct docs_asset docs_assets[];
extern const int docs_asset_count;

#endif
