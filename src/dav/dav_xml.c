/* dav_xml: expat into a small tree, refusing what could blow up. */
#include <expat.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dav/dav_xml.h"

#define NS_SEP '\x01'

struct xml_state {
  XML_Parser p;
  struct dav_xnode *root, *cur;
  int depth, nodes;
  int failed;
};

static void xml_fail(struct xml_state *s)
{
  s->failed = 1;
  XML_StopParser(s->p, XML_FALSE);
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
  struct xml_state *s = ud;
  (void)attrs;
  if(s->failed)
    return;
  if(++s->depth > DAV_XML_DEPTH || ++s->nodes > DAV_XML_NODES || (!s->cur && s->root)) {
    xml_fail(s);
    return;
  }
  struct dav_xnode *n = calloc(1, sizeof(*n));
  const char *sep = strchr(name, NS_SEP);
  if(n) {
    n->ns = sep ? strndup(name, (size_t)(sep - name)) : strdup("");
    n->name = strdup(sep ? sep + 1 : name);
    buf_init(&n->text, 64 * 1024);
  }
  if(!n || !n->ns || !n->name) {
    dav_xml_free(n);
    xml_fail(s);
    return;
  }
  n->parent = s->cur;
  if(!s->cur)
    s->root = n;
  else {
    if(s->cur->last)
      s->cur->last->next = n;
    else
      s->cur->child = n;
    s->cur->last = n;
  }
  s->cur = n;
}

static void on_end(void *ud, const XML_Char *name)
{
  struct xml_state *s = ud;
  (void)name;
  if(s->failed || !s->cur)
    return;
  s->depth--;
  s->cur = s->cur->parent;
}

static void on_text(void *ud, const XML_Char *t, int len)
{
  struct xml_state *s = ud;
  if(!s->failed && s->cur && buf_append(&s->cur->text, t, (size_t)len) != BUF_OK)
    xml_fail(s);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                       const XML_Char *pubid, int internal)
{
  (void)name, (void)sysid, (void)pubid, (void)internal;
  xml_fail(ud);
}

static void on_entity(void *ud, const XML_Char *name, int pe, const XML_Char *value, int vlen,
                      const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid,
                      const XML_Char *notation)
{
  (void)name, (void)pe, (void)value, (void)vlen, (void)base, (void)sysid, (void)pubid;
  (void)notation;
  xml_fail(ud);
}

int dav_xml_parse(const char *data, size_t len, struct dav_xnode **root)
{
  struct xml_state s = {0};
  *root = NULL;
  if(len > (size_t)INT32_MAX)
    return -1;
  s.p = XML_ParserCreateNS("UTF-8", NS_SEP);
  if(!s.p)
    return -1;
  XML_SetUserData(s.p, &s);
  XML_SetElementHandler(s.p, on_start, on_end);
  XML_SetCharacterDataHandler(s.p, on_text);
  XML_SetStartDoctypeDeclHandler(s.p, on_doctype);
  XML_SetEntityDeclHandler(s.p, on_entity);
  XML_SetParamEntityParsing(s.p, XML_PARAM_ENTITY_PARSING_NEVER);
  int ok = XML_Parse(s.p, data, (int)len, XML_TRUE) == XML_STATUS_OK;
  XML_ParserFree(s.p);
  if(!ok || s.failed || !s.root) {
    dav_xml_free(s.root);
    return -1;
  }
  *root = s.root;
  return 0;
}

void dav_xml_free(struct dav_xnode *n)
{
  while(n) {
    struct dav_xnode *next = n->next;
    dav_xml_free(n->child);
    free(n->ns);
    free(n->name);
    buf_free(&n->text);
    free(n);
    n = next;
  }
}

int dav_xml_is(const struct dav_xnode *n, const char *ns, const char *name)
{
  return n && !strcmp(n->ns, ns) && !strcmp(n->name, name);
}

struct dav_xnode *dav_xml_child(const struct dav_xnode *n, const char *ns, const char *name)
{
  for(struct dav_xnode *c = n ? n->child : NULL; c; c = c->next)
    if(dav_xml_is(c, ns, name))
      return c;
  return NULL;
}
