/* Unit tests for http/client_addr: the walk over X-Forwarded-For and
 * Forwarded that names the client behind trusted proxies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http/client_addr.c"

/* Up to 4 header fields (name, value, name, value, ..., NULL); returns the
 * client the walk names in `out`, or "peer" when it names none. */
static const char *walk(const char *trusted, char *out, size_t outsz, ...)
{
  struct cidr_list l;
  struct fwd_headers h;
  struct cidr_addr a;
  va_list ap;
  assert_true(cidr_list_parse(trusted, &l) >= 0);
  fwd_headers_init(&h);
  va_start(ap, outsz);
  for(const char *name; (name = va_arg(ap, const char *));) {
    const char *value = va_arg(ap, const char *);
    fwd_headers_add(&h, name, value);
  }
  va_end(ap);
  if(fwd_headers_client(&h, &l, &a))
    cidr_addr_format(&a, out, outsz);
  else
    snprintf(out, outsz, "peer");
  return out;
}

#define TP "127.0.0.1, 10.0.0.0/8, fd00::/8"
#define XFF(v) walk(TP, buf, sizeof(buf), "X-Forwarded-For", v, NULL)
#define FWD(v) walk(TP, buf, sizeof(buf), "Forwarded", v, NULL)

static void test_xff_walk(void **state)
{
  char buf[64];
  assert_string_equal(XFF("203.0.113.5"), "203.0.113.5");
  /* the rightmost address that is not a trusted proxy */
  assert_string_equal(XFF("198.51.100.1, 203.0.113.5, 10.1.2.3"), "203.0.113.5");
  assert_string_equal(XFF("203.0.113.5,10.1.2.3,127.0.0.1"), "203.0.113.5");
  /* a spoofed left part does not matter */
  assert_string_equal(XFF("garbage, 1.1.1.1, 203.0.113.5"), "203.0.113.5");
  /* all trusted: the leftmost */
  assert_string_equal(XFF("10.9.9.9, 10.1.2.3, 127.0.0.1"), "10.9.9.9");
  /* IPv6, canonical text; mapped IPv4 reads as IPv4 */
  assert_string_equal(XFF("2001:DB8::0:1, fd00::7"), "2001:db8::1");
  assert_string_equal(XFF("::ffff:203.0.113.9"), "203.0.113.9");
  /* blanks, tabs and empty items */
  assert_string_equal(XFF(" \t203.0.113.5 ,, 10.0.0.1 , "), "203.0.113.5");
  /* malformed before an untrusted address: the peer stands */
  assert_string_equal(XFF("203.0.113.5, bogus"), "peer");
  assert_string_equal(XFF("203.0.113.5:443"), "peer");
  assert_string_equal(XFF("[2001:db8::1]"), "peer");
  assert_string_equal(XFF("unknown, 10.0.0.1"), "peer");
  assert_string_equal(XFF("203.0.113.5 10.0.0.1"), "peer");
  assert_string_equal(XFF(""), "peer");
  assert_string_equal(XFF(" , "), "peer");
}

static void test_xff_fields_joined(void **state)
{
  char buf[64];
  /* several fields are one list, in order: the last field's hops are rightmost */
  assert_string_equal(walk(TP, buf, sizeof(buf), "X-Forwarded-For", "203.0.113.5",
                           "x-forwarded-for", "198.51.100.7, 10.0.0.1", NULL),
                      "198.51.100.7");
  assert_string_equal(walk(TP, buf, sizeof(buf), "X-Forwarded-For", "203.0.113.5",
                           "X-Forwarded-For", "10.0.0.1", NULL),
                      "203.0.113.5");
  /* other headers are ignored */
  assert_string_equal(walk(TP, buf, sizeof(buf), "X-Real-IP", "1.2.3.4", "Via", "1.1 p", NULL),
                      "peer");
  /* X-Forwarded-For wins over Forwarded, even when it names no one */
  assert_string_equal(walk(TP, buf, sizeof(buf), "Forwarded", "for=198.51.100.1",
                           "X-Forwarded-For", "203.0.113.5", NULL),
                      "203.0.113.5");
  assert_string_equal(walk(TP, buf, sizeof(buf), "Forwarded", "for=198.51.100.1",
                           "X-Forwarded-For", "nope", NULL),
                      "peer");
  /* nothing trusted: the first untrusted hop from the right is the last one */
  assert_string_equal(walk("", buf, sizeof(buf), "X-Forwarded-For", "203.0.113.5, 10.0.0.1",
                           NULL),
                      "10.0.0.1");
}

static void test_xff_bounded(void **state)
{
  char buf[64], list[8192] = "";
  /* many hops: only the rightmost FWD_HOPS_MAX are kept, which is enough */
  for(int i = 0; i < 500; i++)
    strcat(list, "198.51.100.1, ");
  strcat(list, "203.0.113.5, 10.0.0.1");
  assert_string_equal(XFF(list), "203.0.113.5");
  /* all trusted beyond the kept window: the leftmost kept */
  list[0] = 0;
  for(int i = 0; i < 100; i++)
    sprintf(list + strlen(list), "%s10.0.0.%d", i ? "," : "", i);
  assert_string_equal(XFF(list), "10.0.0.68"); /* 100 - FWD_HOPS_MAX */
  /* an overlong item is malformed */
  memset(list, '1', 200);
  list[200] = 0;
  assert_string_equal(XFF(list), "peer");
}

static void test_forwarded(void **state)
{
  char buf[64];
  assert_string_equal(FWD("for=203.0.113.5"), "203.0.113.5");
  assert_string_equal(FWD("For=\"203.0.113.5\""), "203.0.113.5");
  assert_string_equal(FWD("for=\"203.0.113.5:4711\""), "203.0.113.5");
  assert_string_equal(FWD("for=\"[2001:db8:cafe::17]:4711\""), "2001:db8:cafe::17");
  assert_string_equal(FWD("for=\"[2001:db8:cafe::17]\""), "2001:db8:cafe::17");
  assert_string_equal(FWD("for=\"203.0.113.5:_hidden\""), "203.0.113.5");
  /* other pairs, in any order and case */
  assert_string_equal(FWD("proto=https;for=203.0.113.5;by=10.0.0.1;host=\"a;b,c\""),
                      "203.0.113.5");
  assert_string_equal(FWD("for=203.0.113.5; proto=\"h\\\"ttps\""), "203.0.113.5");
  /* the walk */
  assert_string_equal(FWD("for=198.51.100.1, for=203.0.113.5, for=10.1.1.1"), "203.0.113.5");
  assert_string_equal(FWD("for=\"[fd00::1]\", for=127.0.0.1"), "fd00::1");
  assert_string_equal(walk(TP, buf, sizeof(buf), "Forwarded", "for=203.0.113.5", "Forwarded",
                           "for=10.0.0.2;proto=https", NULL),
                      "203.0.113.5");
  /* empty elements and pairs are allowed */
  assert_string_equal(FWD(" , for=203.0.113.5;;proto=http , "), "203.0.113.5");
  /* "unknown", obfuscated, missing for=: no client, the peer stands */
  assert_string_equal(FWD("for=unknown"), "peer");
  assert_string_equal(FWD("for=203.0.113.5, for=UNKNOWN"), "peer");
  assert_string_equal(FWD("for=_hidden"), "peer");
  assert_string_equal(FWD("for=203.0.113.5, proto=https"), "peer");
  /* ...but they may lie left of the client */
  assert_string_equal(FWD("for=unknown, for=_x, for=203.0.113.5"), "203.0.113.5");
}

static void test_forwarded_malformed(void **state)
{
  char buf[64];
  const char *bad[] = {
    "for=::1",                        /* IPv6 must be quoted and bracketed */
    "for=\"::1\"",                    /* bracketed */
    "for=\"[203.0.113.5]\"",          /* brackets hold IPv6 only */
    "for=\"[2001:db8::1\"",           /* no closing bracket */
    "for=\"[2001:db8::1]x\"",         /* junk after it */
    "for=\"203.0.113.5:\"",           /* empty port */
    "for=\"203.0.113.5:123456\"",     /* port too long */
    "for=\"203.0.113.5:http\"",       /* port not a number */
    "for=203.0.113.5:80",             /* ':' needs quoting */
    "for=\"203.0.113.5",              /* unterminated quote */
    "for=\"203.0.113.5\\",            /* escape at the end */
    "for=",                           /* no value */
    "for=\"\"",                       /* empty value */
    "for 203.0.113.5",                /* no '=' */
    "=203.0.113.5",                   /* no name */
    "for=203.0.113.5 x",              /* junk after the value */
    "for=203.0.113.5;for=198.51.100.1", /* two for= in one element */
    "for=localhost",
    "for=_",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if(strcmp(FWD(bad[i]), "peer"))
      fail_msg("'%s' named %s", bad[i], buf);
  /* a broken field does not hide a good one to its right */
  assert_string_equal(walk(TP, buf, sizeof(buf), "Forwarded", "for=\"oops", "Forwarded",
                           "for=203.0.113.5", NULL),
                      "203.0.113.5");
  /* an overlong for= value is malformed; an overlong other value is fine */
  char big[300] = "for=\"";
  memset(big + 5, '1', 200);
  strcpy(big + 205, "\"");
  assert_string_equal(FWD(big), "peer");
  strcpy(big, "host=");
  memset(big + 5, 'a', 200);
  strcpy(big + 205, ";for=203.0.113.5");
  assert_string_equal(FWD(big), "203.0.113.5");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_xff_walk),
    cmocka_unit_test(test_xff_fields_joined),
    cmocka_unit_test(test_xff_bounded),
    cmocka_unit_test(test_forwarded),
    cmocka_unit_test(test_forwarded_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
