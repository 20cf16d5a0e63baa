/* Unit tests for util/ipclass: which addresses the SSRF guard refuses, and
 * URL hosts read as IP literals in every form the resolver takes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/ipclass.c"

/* The class of a literal host, or "public"; "name" when it is no literal. */
static const char *cls(const char *host)
{
  struct cidr_addr a;
  if(!ipclass_literal(host, &a))
    return "name";
  const char *why = ipclass_internal(&a);
  return why ? why : "public";
}

static void internal(const char *host)
{
  const char *c = cls(host);
  if(!strcmp(c, "public") || !strcmp(c, "name"))
    fail_msg("%s should be internal, got %s", host, c);
}

static void test_ipv4_internal(void **state)
{
  const char *hosts[] = {"127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1",
                         "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                         "100.127.255.255", "0.0.0.0", "0.1.2.3", "224.0.0.1",
                         "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.5",
                         "198.18.0.1", "198.51.100.1", "203.0.113.9", "192.0.0.8"};
  for(size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
    internal(hosts[i]);
  assert_string_equal(cls("127.0.0.1"), "loopback address");
  assert_string_equal(cls("169.254.169.254"), "link-local address");
  assert_string_equal(cls("100.64.0.1"), "carrier-grade NAT address");
}

static void test_ipv4_public(void **state)
{
  const char *hosts[] = {"1.1.1.1", "8.8.8.8", "172.15.255.255", "172.32.0.0",
                         "100.63.255.255", "100.128.0.0", "11.0.0.1", "223.255.255.255",
                         "192.169.0.1", "169.253.0.1"};
  for(size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
    assert_string_equal(cls(hosts[i]), "public");
}

static void test_old_ipv4_forms(void **state)
{
  /* What inet_aton (and so getaddrinfo) reads as 127.0.0.1. */
  assert_string_equal(cls("2130706433"), "loopback address");
  assert_string_equal(cls("0177.0.0.1"), "loopback address");
  assert_string_equal(cls("0x7f.0.0.1"), "loopback address");
  assert_string_equal(cls("127.1"), "loopback address");
  assert_string_equal(cls("017700000001"), "loopback address");
  assert_string_equal(cls("0x7f000001"), "loopback address");
  assert_string_equal(cls("0xa9fea9fe"), "link-local address");
  assert_string_equal(cls("example.com"), "name");
  assert_string_equal(cls("localhost"), "name");
  assert_string_equal(cls(""), "name");
}

static void test_ipv6(void **state)
{
  internal("[::1]");
  internal("::1");
  internal("[::]");
  internal("[fc00::1]");
  internal("[fd12:3456::1]");
  internal("[fe80::1]");
  internal("[fe80::1%eth0]");
  internal("[ff02::1]");
  internal("[fec0::1]");
  internal("[2001:db8::1]");
  internal("[2001:0:4136:e378::1]");    /* Teredo */
  internal("[::ffff:127.0.0.1]");       /* mapped */
  internal("[::ffff:7f00:1]");
  internal("[::ffff:10.0.0.1]");
  internal("[::ffff:169.254.169.254]");
  internal("[::127.0.0.1]");            /* compatible */
  internal("[::10.0.0.1]");
  internal("[64:ff9b::a9fe:a9fe]");     /* NAT64 of 169.254.169.254 */
  internal("[2002:7f00:1::1]");         /* 6to4 of 127.0.0.1 */
  internal("[2002:c0a8:101::1]");       /* 6to4 of 192.168.1.1 */
  assert_string_equal(cls("[::ffff:127.0.0.1]"), "loopback address");
  assert_string_equal(cls("[2606:4700::1111]"), "public");
  assert_string_equal(cls("[::ffff:8.8.8.8]"), "public");
  assert_string_equal(cls("[64:ff9b::808:808]"), "public");
  assert_string_equal(cls("[2002:808:808::1]"), "public");
  assert_string_equal(cls("[2001:4860:4860::8888]"), "public");
}

static void test_sockaddr(void **state)
{
  struct sockaddr_in6 s6;
  struct cidr_addr a;
  memset(&s6, 0, sizeof(s6));
  s6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6.sin6_addr);
  assert_true(cidr_addr_from_sockaddr((struct sockaddr *)&s6, &a));
  assert_string_equal(ipclass_internal(&a), "private network address");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ipv4_internal),
    cmocka_unit_test(test_ipv4_public),
    cmocka_unit_test(test_old_ipv4_forms),
    cmocka_unit_test(test_ipv6),
    cmocka_unit_test(test_sockaddr),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
