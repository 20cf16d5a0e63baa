/* Unit tests for util/cidr: parsing addresses, ranges and lists, matching. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/cidr.c"

static bool parses(const char *s)
{
  struct cidr c;
  return cidr_parse(s, strlen(s), &c);
}

static void canon_eq(const char *in, const char *want)
{
  struct cidr_addr a;
  char out[64];
  assert_true(cidr_addr_parse(in, strlen(in), &a));
  cidr_addr_format(&a, out, sizeof(out));
  assert_string_equal(out, want);
}

/* True when `addr` is in the list `list`. */
static bool in_list(const char *list, const char *addr)
{
  struct cidr_list l;
  struct cidr_addr a;
  assert_true(cidr_list_parse(list, &l) > 0);
  assert_true(cidr_addr_parse(addr, strlen(addr), &a));
  return cidr_list_match(&l, &a);
}

static void test_cidr_parse_good(void **state)
{
  const char *good[] = {"10.0.0.0/8", "127.0.0.1", "127.0.0.1/32", "0.0.0.0/0", "192.168.1.7/24",
                        "::1", "::1/128", "fd00::/8", "::/0", "2001:db8::/32",
                        "::ffff:10.0.0.0/104"};
  for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    assert_true(parses(good[i]));
  struct cidr c;
  assert_true(cidr_parse("127.0.0.1", 9, &c));
  assert_int_equal(c.prefix, 32);
  assert_true(cidr_parse("::1", 3, &c));
  assert_int_equal(c.prefix, 128);
  /* host bits are cleared */
  assert_true(cidr_parse("192.168.1.7/24", 14, &c));
  char out[64];
  cidr_addr_format(&c.net, out, sizeof(out));
  assert_string_equal(out, "192.168.1.0");
  /* a mapped range is an IPv4 range */
  assert_true(cidr_parse("::ffff:10.0.0.0/104", 19, &c));
  assert_int_equal(c.net.family, AF_INET);
  assert_int_equal(c.prefix, 8);
}

static void test_cidr_parse_bad(void **state)
{
  const char *bad[] = {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
                       "10.0.0.0/8/8", "10.0.0/8", "10.0.0.256", "010.0.0.1", "10.0.0.1 ",
                       " 10.0.0.1", "::1/129", "fd00::/1000", "fe80::1%eth0", "[::1]",
                       "localhost", "10.0.0.1:80", "1.2.3.4/0x8", "::ffff:10.0.0.0/95",
                       "0123456789012345678901234567890123456789012345678901234567890123456789"};
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if(parses(bad[i]))
      fail_msg("accepted '%s'", bad[i]);
  /* a NUL inside the counted bytes is refused */
  struct cidr c;
  assert_false(cidr_parse("1.2.3.4\0", 8, &c));
}

static void test_cidr_list_parse(void **state)
{
  struct cidr_list l;
  assert_int_equal(cidr_list_parse("", &l), 0);
  assert_int_equal(cidr_list_parse(NULL, &l), 0);
  assert_int_equal(cidr_list_parse("10.0.0.0/8, 127.0.0.1 ,\t::1", &l), 3);
  assert_int_equal(cidr_list_parse("10.0.0.0/8,nope", &l), -1);
  /* at most CIDR_MAX ranges */
  char list[CIDR_MAX * 16 + 16] = "";
  for(int i = 0; i < CIDR_MAX; i++)
    sprintf(list + strlen(list), "%s10.0.%d.0/24", i ? "," : "", i);
  assert_int_equal(cidr_list_parse(list, &l), CIDR_MAX);
  strcat(list, ",10.1.0.0/16");
  assert_int_equal(cidr_list_parse(list, &l), -1);
}

static void test_cidr_match(void **state)
{
  assert_true(in_list("10.0.0.0/8", "10.255.1.2"));
  assert_false(in_list("10.0.0.0/8", "11.0.0.1"));
  assert_true(in_list("127.0.0.1", "127.0.0.1"));
  assert_false(in_list("127.0.0.1", "127.0.0.2"));
  assert_true(in_list("192.168.0.0/23", "192.168.1.255"));
  assert_false(in_list("192.168.0.0/23", "192.168.2.0"));
  assert_true(in_list("0.0.0.0/0", "203.0.113.5"));
  assert_false(in_list("0.0.0.0/0", "::1"));           /* families never mix */
  assert_false(in_list("::/0", "127.0.0.1"));
  assert_true(in_list("fd00::/8", "fd12:3456::1"));
  assert_false(in_list("fd00::/8", "fe80::1"));
  assert_true(in_list("::1", "::1"));
  assert_false(in_list("::1", "::2"));
  assert_true(in_list("2001:db8::/33", "2001:db8:7fff::1"));
  assert_false(in_list("2001:db8::/33", "2001:db8:8000::1"));
  /* a mapped address matches its IPv4 range */
  assert_true(in_list("127.0.0.0/8", "::ffff:127.0.0.1"));
  assert_true(in_list("1.1.1.1, 127.0.0.1", "127.0.0.1"));
  assert_false(cidr_list_match(NULL, &(struct cidr_addr){.family = AF_INET}));
}

static void test_cidr_sockaddr_and_format(void **state)
{
  struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
  struct cidr_addr a;
  char out[64];
  inet_pton(AF_INET6, "::ffff:192.0.2.9", &s6.sin6_addr);
  assert_true(cidr_addr_from_sockaddr((struct sockaddr *)&s6, &a));
  cidr_addr_format(&a, out, sizeof(out));
  assert_string_equal(out, "192.0.2.9");
  struct sockaddr_in s4 = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
  assert_true(cidr_addr_from_sockaddr((struct sockaddr *)&s4, &a));
  assert_int_equal(a.family, AF_INET);
  struct sockaddr su = {.sa_family = AF_UNIX};
  assert_false(cidr_addr_from_sockaddr(&su, &a));
  assert_false(cidr_addr_from_sockaddr(NULL, &a));
  canon_eq("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
  canon_eq("::FFFF:203.0.113.5", "203.0.113.5");
  canon_eq("203.0.113.5", "203.0.113.5");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cidr_parse_good),
    cmocka_unit_test(test_cidr_parse_bad),
    cmocka_unit_test(test_cidr_list_parse),
    cmocka_unit_test(test_cidr_match),
    cmocka_unit_test(test_cidr_sockaddr_and_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
