/* Unit tests for http/conn_limit: per-address counts, the IPv6 /64 key,
 * exempt addresses, and the table staying correct through many removals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>

#include "http/conn_limit.c"

static struct cidr_addr addr(const char *s)
{
  struct cidr_addr a;
  assert_true(cidr_addr_parse(s, strlen(s), &a));
  return a;
}

static void test_cap_and_give_back(void **state)
{
  assert_int_equal(conn_limit_init(3, NULL, 64), 0);
  struct cidr_addr a = addr("192.0.2.7"), b = addr("192.0.2.8");
  for(int i = 0; i < 3; i++)
    assert_true(conn_limit_take(&a));
  assert_false(conn_limit_take(&a));
  assert_true(conn_limit_take(&b)); /* another address has its own count */
  conn_limit_give(&a);
  assert_int_equal(conn_limit_count(&a), 2);
  assert_true(conn_limit_take(&a));
  conn_limit_free();
}

static void test_ipv6_counts_by_64(void **state)
{
  assert_int_equal(conn_limit_init(2, NULL, 64), 0);
  struct cidr_addr x = addr("2001:db8:1:2::1"), y = addr("2001:db8:1:2:ffff::9");
  struct cidr_addr z = addr("2001:db8:1:3::1");
  assert_true(conn_limit_take(&x));
  assert_true(conn_limit_take(&y));
  assert_false(conn_limit_take(&x)); /* same /64 */
  assert_true(conn_limit_take(&z));
  conn_limit_free();
}

static void test_many_addresses_survive_removals(void **state)
{
  /* Fill far more entries than one probe run, remove every other one, and
   * check each remaining count is still found (backward-shift delete). */
  assert_int_equal(conn_limit_init(1, NULL, 16), 0);
  char s[32];
  for(int i = 0; i < 1000; i++) {
    snprintf(s, sizeof(s), "10.0.%d.%d", i / 250, i % 250);
    struct cidr_addr a = addr(s);
    assert_true(conn_limit_take(&a));
  }
  for(int i = 0; i < 1000; i += 2) {
    snprintf(s, sizeof(s), "10.0.%d.%d", i / 250, i % 250);
    struct cidr_addr a = addr(s);
    conn_limit_give(&a);
  }
  for(int i = 0; i < 1000; i++) {
    snprintf(s, sizeof(s), "10.0.%d.%d", i / 250, i % 250);
    struct cidr_addr a = addr(s);
    assert_int_equal(conn_limit_count(&a), i % 2);
  }
  conn_limit_free();
}

static void test_exempt_accepted_uncounted(void **state)
{
  struct cidr_list l;
  assert_int_equal(cidr_list_parse("127.0.0.1", &l), 1);
  assert_int_equal(conn_limit_init(1, &l, 64), 0);
  struct cidr_addr ex = addr("127.0.0.1"), other = addr("127.0.0.2");
  assert_true(conn_limit_exempt(&ex));
  assert_false(conn_limit_exempt(&other));
  assert_true(conn_limit_take(&other));
  assert_false(conn_limit_take(&other));
  conn_limit_give(&other);
  assert_int_equal(conn_limit_count(&other), 0);
  conn_limit_free();
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cap_and_give_back),
    cmocka_unit_test(test_ipv6_counts_by_64),
    cmocka_unit_test(test_many_addresses_survive_removals),
    cmocka_unit_test(test_exempt_accepted_uncounted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
