/* Unit tests for dav/dav_xml: namespaces, text, and the refusals (DOCTYPE,
 * entities, depth, element count, malformed input). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav/dav_xml.c"

static int parse(const char *s, struct dav_xnode **root)
{
  return dav_xml_parse(s, strlen(s), root);
}

static void test_namespaces_and_text(void **state)
{
  struct dav_xnode *root;
  assert_int_equal(parse("<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\">"
                         "<D:prop><Z:color>blue &amp; red</Z:color><plain/></D:prop></D:propfind>",
                         &root), 0);
  assert_true(dav_xml_is(root, "DAV:", "propfind"));
  struct dav_xnode *prop = dav_xml_child(root, "DAV:", "prop");
  assert_non_null(prop);
  struct dav_xnode *color = dav_xml_child(prop, "urn:z", "color");
  assert_non_null(color);
  assert_string_equal(color->text.data, "blue & red");
  assert_non_null(dav_xml_child(prop, "", "plain"));
  assert_null(dav_xml_child(prop, "DAV:", "color"));
  dav_xml_free(root);
}

static void test_refuses_doctype_and_entities(void **state)
{
  struct dav_xnode *root = (void *)1;
  assert_int_equal(parse("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", &root), -1);
  assert_null(root);
  assert_int_equal(parse("<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>", &root), -1);
  assert_int_equal(parse("<a>&undefined;</a>", &root), -1);
}

static void test_bounds(void **state)
{
  struct dav_xnode *root;
  char deep[(DAV_XML_DEPTH + 1) * 7 + 1] = "";
  for(int i = 0; i <= DAV_XML_DEPTH; i++)
    strcat(deep, "<a>");
  for(int i = 0; i <= DAV_XML_DEPTH; i++)
    strcat(deep, "</a>");
  assert_int_equal(parse(deep, &root), -1);
  /* Exactly the limit is fine. */
  deep[0] = 0;
  for(int i = 0; i < DAV_XML_DEPTH; i++)
    strcat(deep, "<a>");
  for(int i = 0; i < DAV_XML_DEPTH; i++)
    strcat(deep, "</a>");
  assert_int_equal(parse(deep, &root), 0);
  dav_xml_free(root);
  size_t n = (DAV_XML_NODES + 1) * 4 + 8;
  char *wide = malloc(n);
  strcpy(wide, "<r>");
  for(int i = 0; i < DAV_XML_NODES; i++)
    strcat(wide, "<b/>");
  strcat(wide, "</r>");
  assert_int_equal(parse(wide, &root), -1);
  free(wide);
}

static void test_malformed(void **state)
{
  struct dav_xnode *root;
  assert_int_equal(parse("", &root), -1);
  assert_int_equal(parse("<a>", &root), -1);
  assert_int_equal(parse("<a></b>", &root), -1);
  assert_int_equal(parse("<x:a/>", &root), -1);   /* unbound prefix */
  assert_int_equal(parse("<a/><b/>", &root), -1);
  assert_int_equal(parse("plain text", &root), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_namespaces_and_text),
    cmocka_unit_test(test_refuses_doctype_and_entities),
    cmocka_unit_test(test_bounds),
    cmocka_unit_test(test_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
