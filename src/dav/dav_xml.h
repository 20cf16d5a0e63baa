/* dav_xml: a hardened reader for WebDAV request bodies on libexpat. A
 * DOCTYPE or any entity declaration is refused outright (no entity
 * expansion, so no "billion laughs"), nesting is bounded by DAV_XML_DEPTH,
 * the element count by DAV_XML_NODES and text by the body cap. Names are
 * namespace-resolved. */
#ifndef NETRA_DAV_XML_H
#define NETRA_DAV_XML_H
#include <stddef.h>
#include "util/buf.h"

#define DAV_XML_DEPTH 32
#define DAV_XML_NODES 4096

struct dav_xnode {
  char *ns;                 /* "" when none */
  char *name;
  struct dav_xnode *parent, *child, *last, *next;
  buf_t text;               /* the character data directly inside */
};

/** Parses `len` bytes; 0 with *root set, or -1 (malformed, refused or too
 *  deep/big). */
int dav_xml_parse(const char *data, size_t len, struct dav_xnode **root);
void dav_xml_free(struct dav_xnode *n);
/** The first child element `ns`:`name`, or NULL. */
struct dav_xnode *dav_xml_child(const struct dav_xnode *n, const char *ns, const char *name);
/** True when `n` is `ns`:`name`. */
int dav_xml_is(const struct dav_xnode *n, const char *ns, const char *name);

#endif
