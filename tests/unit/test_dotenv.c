/* Unit tests for util/dotenv on its own (the .env rules as NetraDrive reads
 * them are covered through config_load in test_config). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/dotenv.c"

static char path[64];

static int setup(void **state)
{
  strcpy(path, "/tmp/netra-dotenv-XXXXXX");
  int fd = mkstemp(path);
  if(fd < 0)
    return -1;
  close(fd);
  return 0;
}

static int teardown(void **state)
{
  unlink(path);
  return 0;
}

static void write_text(const char *text)
{
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static void test_get_and_last_wins(void **state)
{
  struct dotenv env;
  char err[128];
  write_text("A=1\nexport B = 'two words'\nA=3 # again\nC=\"x\\ty\"\nEMPTY=\n");
  assert_int_equal(dotenv_load(&env, path, err, sizeof(err)), 0);
  assert_int_equal(env.n, 5);
  assert_string_equal(dotenv_get(&env, "A"), "3");
  assert_string_equal(dotenv_get(&env, "B"), "two words");
  assert_string_equal(dotenv_get(&env, "C"), "x\ty");
  assert_string_equal(dotenv_get(&env, "EMPTY"), "");
  assert_null(dotenv_get(&env, "MISSING"));
  dotenv_free(&env);
  assert_int_equal(env.n, 0);
  dotenv_free(&env); /* freeing twice is harmless */
}

static void test_missing_file_is_empty(void **state)
{
  struct dotenv env;
  assert_int_equal(dotenv_load(&env, "/nonexistent/netra/.env", NULL, 0), 0);
  assert_int_equal(env.n, 0);
  assert_null(dotenv_get(&env, "A"));
  dotenv_free(&env);
}

static void test_errors_name_the_path(void **state)
{
  struct dotenv env;
  char err[128], want[128];
  write_text("A=1\nB=\"open\n");
  assert_int_equal(dotenv_load(&env, path, err, sizeof(err)), -1);
  snprintf(want, sizeof(want), "%s line 2: unterminated quoted value", path);
  assert_string_equal(err, want);
  assert_int_equal(env.n, 0); /* nothing half-loaded */
  assert_null(env.vars);
  /* No error buffer: still refused. */
  assert_int_equal(dotenv_load(&env, path, NULL, 0), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_get_and_last_wins, setup, teardown),
    cmocka_unit_test(test_missing_file_is_empty),
    cmocka_unit_test_setup_teardown(test_errors_name_the_path, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
