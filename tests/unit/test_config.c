/* Unit tests for config: defaults, precedence (flag > env > .env > default),
 * the .env syntax, every validation rule, and the generated secret key. Each
 * test runs in its own temporary working directory with a clean environment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.c"
#include "util/parse.h"

#define MIB (1024ull * 1024)

static const char *const all_vars[] = {
  "HOST", "PORT", "DATA_DIR", "DATABASE_URL", "SECRET_KEY", "ACCESS_TOKEN_EXPIRE_MINUTES",
  "REFRESH_TOKEN_EXPIRE_DAYS", "STORAGE_BACKEND", "TELEGRAM_BOT_TOKEN",
  "TELEGRAM_STORAGE_CHAT_ID", "TELEGRAM_API_URL", "TELEGRAM_LOCAL_MODE",
  "TELEGRAM_PARALLEL_UPLOADS", "CHUNK_SIZE", "MAX_UPLOAD_SIZE", "CACHE_SIZE", "DEDUP",
  "CORS_ORIGINS", "PUBLIC_URL", "SMTP_URL", "SMTP_FROM", "REQUIRE_EMAIL_VERIFICATION",
  "ALLOW_PRIVATE_URLS", "BIN_RETENTION_DAYS", "LOG_LEVEL", "THREADS", "LOGIN_MAX_FAILURES",
  "LOGIN_WINDOW_SECONDS", "BIN_BATCH_FOLDERS", "BIN_BATCH_MS", "BIN_BATCH_PAUSE_MS",
};

struct fixture {
  char dir[64];
  char oldcwd[PATH_MAX];
};

static void clear_env(void)
{
  for(size_t i = 0; i < sizeof(all_vars) / sizeof(all_vars[0]); i++)
    unsetenv(all_vars[i]);
}

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));
  if(!f || !getcwd(f->oldcwd, sizeof(f->oldcwd)))
    return -1;
  strcpy(f->dir, "/tmp/netra-config-test-XXXXXX");
  if(!mkdtemp(f->dir) || chdir(f->dir))
    return -1;
  clear_env();
  *state = f;
  return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  chmod(path, 0700); /* so a test that removed permissions does not block cleanup */
  return remove(path);
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  clear_env();
  if(chdir(f->oldcwd))
    return -1;
  nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

static void write_file(const char *path, const char *data, size_t n)
{
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(data, 1, n, fp), n);
  fclose(fp);
}

static void write_env(const char *text)
{
  write_file(".env", text, strlen(text));
}

static int load(struct config *cfg, char *err)
{
  return config_load(cfg, 0, NULL, err, 256);
}

/* The expect_* helpers set var=value for one load and then put back what
 * was there before. */
static char *saved_value;

static void set_temporarily(const char *var, const char *value)
{
  const char *old = getenv(var);
  saved_value = old ? strdup(old) : NULL;
  setenv(var, value, 1);
}

static void restore(const char *var)
{
  if(saved_value)
    setenv(var, saved_value, 1);
  else
    unsetenv(var);
  free(saved_value);
  saved_value = NULL;
}

/* Expects config_load to fail with exactly `want`. */
static void expect_err(const char *var, const char *value, const char *want)
{
  struct config cfg;
  char err[256];
  set_temporarily(var, value);
  assert_int_equal(load(&cfg, err), -1);
  assert_string_equal(err, want);
  restore(var);
}

/* Expects config_load to fail with an error starting "var: ". */
static void expect_fail(const char *var, const char *value)
{
  struct config cfg;
  char err[256], prefix[64];
  set_temporarily(var, value);
  assert_int_equal(load(&cfg, err), -1);
  snprintf(prefix, sizeof(prefix), "%s: ", var);
  if(strncmp(err, prefix, strlen(prefix)))
    fail_msg("%s=%s: unexpected error '%s'", var, value, err);
  assert_null(strchr(err, '\n'));
  restore(var);
}

static void expect_ok(const char *var, const char *value)
{
  struct config cfg;
  char err[256] = "";
  set_temporarily(var, value);
  if(load(&cfg, err))
    fail_msg("%s=%s: unexpected error '%s'", var, value, err);
  config_free(&cfg);
  restore(var);
}

static void test_defaults(void **state)
{
  struct config cfg;
  char err[256];
  assert_int_equal(load(&cfg, err), 0);
  assert_string_equal(cfg.host, "127.0.0.1");
  assert_int_equal(cfg.port, 8000);
  assert_string_equal(cfg.data_dir, "./data");
  assert_string_equal(cfg.database_url, "sqlite://./data/netradrive.db");
  assert_null(cfg.secret_key);
  assert_int_equal(cfg.access_token_expire_minutes, 30);
  assert_int_equal(cfg.refresh_token_expire_days, 7);
  assert_int_equal(cfg.storage_backend, STORAGE_LOCAL);
  assert_null(cfg.telegram_bot_token);
  assert_null(cfg.telegram_storage_chat_id);
  assert_string_equal(cfg.telegram_api_url, "https://api.telegram.org");
  assert_false(cfg.telegram_local_mode);
  assert_int_equal(cfg.telegram_parallel, 4);
  assert_true(cfg.chunk_size == 8 * MIB);
  assert_true(cfg.max_upload_size == 0);
  assert_true(cfg.cache_size == 1024 * MIB);
  assert_int_equal(cfg.dedup, DEDUP_LINK);
  assert_string_equal(cfg.cors_origins, "");
  assert_string_equal(cfg.public_url, "http://127.0.0.1:8000");
  assert_null(cfg.smtp_url);
  assert_string_equal(cfg.smtp_from, "netradrive@localhost");
  assert_false(cfg.require_email_verification);
  assert_false(cfg.allow_private_urls);
  assert_int_equal(cfg.bin_retention_days, 30);
  assert_int_equal(cfg.bin_batch_folders, 1000);
  assert_int_equal(cfg.bin_batch_ms, 0);   /* per engine: folder_ops.c */
  assert_int_equal(cfg.bin_batch_pause_ms, 0);
  assert_int_equal(cfg.log_level, LOG_INFO);
  assert_int_equal(cfg.threads, 4);
  assert_int_equal(cfg.login_max_failures, 5);
  assert_int_equal(cfg.login_window_seconds, 900);
  config_free(&cfg);
  config_free(&cfg); /* freeing twice is harmless */
}

static void test_env_values(void **state)
{
  struct config cfg;
  char err[256];
  setenv("HOST", "0.0.0.0", 1);
  setenv("PORT", "9001", 1);
  setenv("DATA_DIR", "/srv/netra/", 1);
  setenv("SECRET_KEY", "0123456789abcdef", 1);
  setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "15", 1);
  setenv("REFRESH_TOKEN_EXPIRE_DAYS", "30", 1);
  setenv("STORAGE_BACKEND", "Telegram", 1);
  setenv("TELEGRAM_BOT_TOKEN", "123:abc, 456:def-_", 1);
  setenv("TELEGRAM_STORAGE_CHAT_ID", "-1001234567890,@my_channel", 1);
  setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/", 1);
  setenv("TELEGRAM_LOCAL_MODE", "yes", 1);
  setenv("TELEGRAM_PARALLEL_UPLOADS", "8", 1);
  setenv("CHUNK_SIZE", "100M", 1);
  setenv("MAX_UPLOAD_SIZE", "4G", 1);
  setenv("CACHE_SIZE", "512MiB", 1);
  setenv("DEDUP", "reject", 1);
  setenv("CORS_ORIGINS", " http://localhost:3000/ , https://drive.example.com", 1);
  setenv("PUBLIC_URL", "https://drive.example.com/", 1);
  setenv("SMTP_URL", "smtps://user:pass@mail.example.com:465", 1);
  setenv("SMTP_FROM", "NetraDrive <no-reply@example.com>", 1);
  setenv("ALLOW_PRIVATE_URLS", "on", 1);
  setenv("BIN_RETENTION_DAYS", "0", 1);
  setenv("LOG_LEVEL", "warning", 1);
  setenv("THREADS", "16", 1);
  setenv("LOGIN_MAX_FAILURES", "10", 1);
  setenv("LOGIN_WINDOW_SECONDS", "60", 1);
  if(load(&cfg, err))
    fail_msg("%s", err);
  assert_string_equal(cfg.host, "0.0.0.0");
  assert_int_equal(cfg.port, 9001);
  assert_string_equal(cfg.data_dir, "/srv/netra");
  assert_string_equal(cfg.database_url, "sqlite:///srv/netra/netradrive.db");
  assert_string_equal(cfg.secret_key, "0123456789abcdef");
  assert_int_equal(cfg.access_token_expire_minutes, 15);
  assert_int_equal(cfg.refresh_token_expire_days, 30);
  assert_int_equal(cfg.storage_backend, STORAGE_TELEGRAM);
  assert_string_equal(cfg.telegram_bot_token, "123:abc, 456:def-_");
  assert_string_equal(cfg.telegram_storage_chat_id, "-1001234567890,@my_channel");
  assert_string_equal(cfg.telegram_api_url, "http://127.0.0.1:8081");
  assert_true(cfg.telegram_local_mode);
  assert_int_equal(cfg.telegram_parallel, 8);
  assert_true(cfg.chunk_size == 100 * MIB);
  assert_true(cfg.max_upload_size == 4096 * MIB);
  assert_true(cfg.cache_size == 512 * MIB);
  assert_int_equal(cfg.dedup, DEDUP_REJECT);
  assert_string_equal(cfg.cors_origins, "http://localhost:3000,https://drive.example.com");
  assert_string_equal(cfg.public_url, "https://drive.example.com");
  assert_string_equal(cfg.smtp_url, "smtps://user:pass@mail.example.com:465");
  assert_string_equal(cfg.smtp_from, "NetraDrive <no-reply@example.com>");
  assert_true(cfg.require_email_verification); /* on by default once SMTP is set */
  assert_true(cfg.allow_private_urls);
  assert_int_equal(cfg.bin_retention_days, 0);
  assert_int_equal(cfg.log_level, LOG_WARN);
  assert_int_equal(cfg.threads, 16);
  assert_int_equal(cfg.login_max_failures, 10);
  assert_int_equal(cfg.login_window_seconds, 60);
  config_free(&cfg);

  setenv("REQUIRE_EMAIL_VERIFICATION", "false", 1);
  assert_int_equal(load(&cfg, err), 0);
  assert_false(cfg.require_email_verification);
  config_free(&cfg);
}

static void test_precedence(void **state)
{
  struct config cfg;
  char err[256];
  char *argv[] = {"--port", "3333", NULL};
  write_env("PORT=1111\nHOST=10.0.0.1\n");
  setenv("PORT", "2222", 1);
  assert_int_equal(config_load(&cfg, 2, argv, err, sizeof(err)), 0);
  assert_int_equal(cfg.port, 3333); /* flag > env */
  assert_string_equal(cfg.host, "10.0.0.1"); /* .env > default */
  assert_string_equal(cfg.public_url, "http://10.0.0.1:3333");
  config_free(&cfg);
  assert_int_equal(load(&cfg, err), 0);
  assert_int_equal(cfg.port, 2222); /* env > .env */
  config_free(&cfg);
  setenv("PORT", "", 1); /* present but empty: hides .env, means the default */
  assert_int_equal(load(&cfg, err), 0);
  assert_int_equal(cfg.port, 8000);
  config_free(&cfg);
  unsetenv("PORT");
  assert_int_equal(load(&cfg, err), 0);
  assert_int_equal(cfg.port, 1111);
  config_free(&cfg);
  /* Loading .env does not leak into the process environment. */
  assert_null(getenv("HOST"));
}

static void test_flags(void **state)
{
  struct config cfg;
  char err[256];
  char *argv[] = {"--host", "::1", "--port=8443", "--data-dir", "/var/lib/netra",
                  "--database-url=postgresql://u@db/netra", "--log-level", "debug",
                  "--threads=2"};
  /* Loads without SHARED_DATA_DIR: only serve, gc and fsck need it. */
  assert_int_equal(config_load(&cfg, 9, argv, err, sizeof(err)), 0);
  assert_int_equal(config_check_storage(&cfg, err, sizeof(err)), -1);
  assert_string_equal(cfg.host, "::1");
  assert_int_equal(cfg.port, 8443);
  assert_string_equal(cfg.data_dir, "/var/lib/netra");
  assert_string_equal(cfg.database_url, "postgresql://u@db/netra");
  assert_int_equal(cfg.log_level, LOG_DEBUG);
  assert_int_equal(cfg.threads, 2);
  assert_string_equal(cfg.public_url, "http://[::1]:8443");
  config_free(&cfg);

  /* No flags at all; argc bounds argv even without a NULL terminator. */
  assert_int_equal(config_load(&cfg, 0, NULL, err, sizeof(err)), 0);
  config_free(&cfg);
  assert_int_equal(config_load(&cfg, 2, argv, err, sizeof(err)), 0);
  assert_string_equal(cfg.host, "::1");
  assert_int_equal(cfg.port, 8000);
  config_free(&cfg);

  struct {
    int argc;
    char *argv[4];
    const char *want;
  } bad[] = {
    {1, {"--bogus"}, "--bogus: unknown option"},
    {1, {"-p"}, "-p: unknown option"},
    {2, {"--port", "x"}, "--port: must be an integer between 1 and 65535 (got 'x')"},
    {1, {"--port"}, "--port: missing value"},
    {1, {"--port="}, "--port: missing value"},
    {2, {"--port", ""}, "--port: missing value"},
    {3, {"--port", "80", "extra"}, "extra: unexpected argument"},
    {1, {"serve"}, "serve: unexpected argument"},
    {2, {"--hostx", "a"}, "--hostx: unknown option"},
    {2, {"--threads", "0"}, "--threads: must be an integer between 1 and 256 (got '0')"},
    {1, {"--log-level=loud"},
     "--log-level: must be one of debug, info, warn, error (got 'loud')"},
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(config_load(&cfg, bad[i].argc, bad[i].argv, err, sizeof(err)), -1);
    assert_string_equal(err, bad[i].want);
  }
}

static void test_dotenv_syntax(void **state)
{
  struct config cfg;
  char err[256];
  write_env("# a comment\n"
            "\n"
            "   # indented comment\n"
            "export HOST=192.168.1.5\n"
            "PORT = 7000   # trailing comment\n"
            "SMTP_FROM='Team <team@example.com>'  # note\n"
            "PUBLIC_URL=\"https://x.example.com/#frag\"\n"
            "SECRET_KEY=\"with \\\"escapes\\\" and #hash\"\r\n"
            "CORS_ORIGINS=http://a.example#not-a-comment\n"
            "DEDUP=\n"
            "THREADS=3\n"
            "THREADS=5\n"
            "\tLOG_LEVEL\t=\terror\t\n"
            "UNRELATED_KEY=whatever");
  if(load(&cfg, err))
    fail_msg("%s", err);
  assert_string_equal(cfg.host, "192.168.1.5");
  assert_int_equal(cfg.port, 7000);
  assert_string_equal(cfg.smtp_from, "Team <team@example.com>");
  assert_string_equal(cfg.public_url, "https://x.example.com/#frag");
  assert_string_equal(cfg.secret_key, "with \"escapes\" and #hash");
  assert_string_equal(cfg.cors_origins, "http://a.example#not-a-comment");
  assert_int_equal(cfg.dedup, DEDUP_LINK); /* empty = default */
  assert_int_equal(cfg.threads, 5);        /* last one wins */
  assert_int_equal(cfg.log_level, LOG_ERROR);
  config_free(&cfg);

  /* Single quotes are literal; an empty file is fine. */
  write_env("SECRET_KEY='no \\n escapes here!'\n");
  assert_int_equal(load(&cfg, err), 0);
  assert_string_equal(cfg.secret_key, "no \\n escapes here!");
  config_free(&cfg);
  write_env("");
  assert_int_equal(load(&cfg, err), 0);
  config_free(&cfg);
}

static void test_dotenv_errors(void **state)
{
  struct config cfg;
  char err[256];
  struct {
    const char *text;
    const char *want;
  } bad[] = {
    {"PORT=1\nthis is not valid\n", ".env line 2: expected KEY=VALUE"},
    {"=5\n", ".env line 1: expected KEY=VALUE"},
    {"1PORT=5\n", ".env line 1: expected KEY=VALUE"},
    {"PO-RT=5\n", ".env line 1: expected KEY=VALUE"},
    {"\n\nexport\n", ".env line 3: expected KEY=VALUE"},
    {"HOST=\"abc\n", ".env line 1: unterminated quoted value"},
    {"HOST='abc\"\n", ".env line 1: unterminated quoted value"},
    {"HOST=\"abc\" def\n", ".env line 1: unexpected text after the closing quote"},
    {"PORT=abc\n", "PORT: must be an integer between 1 and 65535 (got 'abc')"},
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    write_env(bad[i].text);
    assert_int_equal(load(&cfg, err), -1);
    assert_string_equal(err, bad[i].want);
  }
  write_file(".env", "PORT=1\0\n", 8);
  assert_int_equal(load(&cfg, err), -1);
  assert_string_equal(err, ".env: file contains a NUL byte");

  /* Too many variables. */
  char *big = malloc(600 * 16);
  size_t n = 0;
  for(int i = 0; i < 600; i++)
    n += (size_t)sprintf(big + n, "K%d=v\n", i);
  write_file(".env", big, n);
  free(big);
  assert_int_equal(load(&cfg, err), -1);
  assert_string_equal(err, ".env: too many variables (at most 512)");

  /* A .env that cannot be read is an error, not silently skipped. */
  unlink(".env");
  assert_int_equal(mkdir(".env", 0700), 0);
  assert_int_equal(load(&cfg, err), -1);
  assert_int_equal(strncmp(err, ".env: cannot read", 17), 0);
}

static void test_int_ranges(void **state)
{
  struct {
    const char *var;
    long min, max;
  } r[] = {
    {"PORT", 1, 65535},
    {"ACCESS_TOKEN_EXPIRE_MINUTES", 1, 525600},
    {"REFRESH_TOKEN_EXPIRE_DAYS", 1, 3650},
    {"BIN_RETENTION_DAYS", 0, 36500},
    {"BIN_BATCH_FOLDERS", 1, 1000000},
    {"BIN_BATCH_MS", 0, 10000},
    {"BIN_BATCH_PAUSE_MS", 0, 60000},
    {"THREADS", 1, 256},
    {"LOGIN_MAX_FAILURES", 1, 1000},
    {"LOGIN_WINDOW_SECONDS", 1, 86400},
    {"TELEGRAM_PARALLEL_UPLOADS", 1, 64},
  };
  char v[64], want[256];
  for(size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
    snprintf(v, sizeof(v), "%ld", r[i].min);
    expect_ok(r[i].var, v);
    snprintf(v, sizeof(v), "%ld", r[i].max);
    expect_ok(r[i].var, v);
    snprintf(v, sizeof(v), "%ld", r[i].min - 1);
    snprintf(want, sizeof(want), "%s: must be an integer between %ld and %ld (got '%s')", r[i].var,
             r[i].min, r[i].max, v);
    expect_err(r[i].var, v, want);
    snprintf(v, sizeof(v), "%ld", r[i].max + 1);
    snprintf(want, sizeof(want), "%s: must be an integer between %ld and %ld (got '%s')", r[i].var,
             r[i].min, r[i].max, v);
    expect_err(r[i].var, v, want);
    static const char *const junk[] = {"abc", "1.5", " 5", "5 ", "0x10", "+5", "-", "5k",
                                       "99999999999999999999999", "1e3"};
    for(size_t k = 0; k < sizeof(junk) / sizeof(junk[0]); k++)
      expect_fail(r[i].var, junk[k]);
  }
  expect_err("PORT", "abc", "PORT: must be an integer between 1 and 65535 (got 'abc')");
}

static void test_error_value_is_sanitised(void **state)
{
  struct config cfg;
  char err[256], v[300];
  setenv("PORT", "80\n81\x1b[2J", 1);
  assert_int_equal(load(&cfg, err), -1);
  assert_string_equal(err, "PORT: must be an integer between 1 and 65535 (got '80?81?[2J')");
  memset(v, '9', 299);
  v[299] = 0;
  setenv("PORT", v, 1);
  assert_int_equal(load(&cfg, err), -1);
  assert_non_null(strstr(err, "999...')"));
  assert_true(strlen(err) < 160);
  /* A tiny error buffer is truncated, never overrun; NULL is tolerated. */
  char tiny[6];
  assert_int_equal(config_load(&cfg, 0, NULL, tiny, sizeof(tiny)), -1);
  assert_string_equal(tiny, "PORT:");
  assert_int_equal(config_load(&cfg, 0, NULL, NULL, 0), -1);
}

static void test_parse_size(void **state)
{
  struct {
    const char *s;
    uint64_t v;
  } ok[] = {
    {"0", 0}, {"1", 1}, {"512B", 512}, {"64K", 65536}, {"64k", 65536}, {"64KB", 65536},
    {"64KiB", 65536}, {"8M", 8 * MIB}, {"8mb", 8 * MIB}, {"8MiB", 8 * MIB}, {"2G", 2048 * MIB},
    {"1T", 1024 * 1024 * MIB}, {"007", 7}, {"18446744073709551615", UINT64_MAX},
    {"16777215T", 16777215ull * 1024 * 1024 * MIB},
  };
  for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    uint64_t v = 1234;
    if(parse_size(ok[i].s, &v))
      fail_msg("'%s' refused", ok[i].s);
    assert_true(v == ok[i].v);
  }
  static const char *const bad[] = {
    "", "-1", "+1", " 1", "1 ", "1.5M", "M", "1MM", "1Q", "1iB", "1KiBB", "0x10", "1e6",
    "18446744073709551616", "16777216T", "17179869184G", "99999999999999999999999K", "1 K",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint64_t v = 1234;
    if(!parse_size(bad[i], &v))
      fail_msg("'%s' accepted", bad[i]);
    assert_true(v == 1234);
  }
  assert_int_equal(parse_size(NULL, NULL), -1);
  expect_err("MAX_UPLOAD_SIZE", "-5",
             "MAX_UPLOAD_SIZE: must be a size in bytes with an optional K, M or G suffix (got '-5')");
  expect_fail("CACHE_SIZE", "lots");
}

static void test_parse_bool(void **state)
{
  static const char *const yes[] = {"true", "TRUE", "True", "1", "yes", "YES", "on", "On"};
  static const char *const no[] = {"false", "FALSE", "0", "no", "No", "off", "OFF"};
  static const char *const bad[] = {"", "2", "t", "y", "enabled", " true", "true ", "-1", "nope"};
  bool b;
  for(size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    b = false;
    assert_int_equal(parse_bool(yes[i], &b), 0);
    assert_true(b);
  }
  for(size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
    b = true;
    assert_int_equal(parse_bool(no[i], &b), 0);
    assert_false(b);
  }
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(parse_bool(bad[i], &b), -1);
  assert_int_equal(parse_bool(NULL, &b), -1);
  expect_err("ALLOW_PRIVATE_URLS", "maybe", "ALLOW_PRIVATE_URLS: must be true or false (got 'maybe')");
  expect_fail("TELEGRAM_LOCAL_MODE", "2");
  expect_fail("REQUIRE_EMAIL_VERIFICATION", "sure");
}

static void set_telegram(void)
{
  setenv("STORAGE_BACKEND", "telegram", 1);
  setenv("TELEGRAM_BOT_TOKEN", "123456:ABC-def_ghi", 1);
  setenv("TELEGRAM_STORAGE_CHAT_ID", "-1001234567890", 1);
}

static void test_chunk_size(void **state)
{
  struct config cfg;
  char err[256];
  /* Local: default 8 MiB, 64K..2000M. */
  expect_ok("CHUNK_SIZE", "64K");
  expect_ok("CHUNK_SIZE", "2000M");
  expect_err("CHUNK_SIZE", "65535", "CHUNK_SIZE: must be between 64K and 2000M (got '65535')");
  expect_fail("CHUNK_SIZE", "2001M");
  expect_fail("CHUNK_SIZE", "0");

  /* Telegram cloud: default 20 MiB - 64 KiB, at most 20 MiB. */
  set_telegram();
  assert_int_equal(load(&cfg, err), 0);
  assert_true(cfg.chunk_size == 20 * MIB - 64 * 1024);
  config_free(&cfg);
  expect_ok("CHUNK_SIZE", "20M");
  expect_err("CHUNK_SIZE", "20971521",
             "CHUNK_SIZE: must be between 64K and 20M with the hosted Telegram Bot API "
             "(got '20971521')");
  expect_fail("CHUNK_SIZE", "32K");

  /* Telegram local mode: up to 2000 MB. */
  setenv("TELEGRAM_LOCAL_MODE", "true", 1);
  assert_int_equal(load(&cfg, err), 0);
  assert_true(cfg.chunk_size == 20 * MIB - 64 * 1024);
  config_free(&cfg);
  expect_ok("CHUNK_SIZE", "2000M");
  expect_fail("CHUNK_SIZE", "2G");
}

static void test_telegram_rules(void **state)
{
  struct config cfg;
  char err[256];
  setenv("STORAGE_BACKEND", "telegram", 1);
  assert_int_equal(load(&cfg, err), -1);
  assert_string_equal(err, "TELEGRAM_BOT_TOKEN: required when STORAGE_BACKEND=telegram");
  setenv("TELEGRAM_BOT_TOKEN", "1:a", 1);
  assert_int_equal(load(&cfg, err), -1);
  assert_string_equal(err, "TELEGRAM_STORAGE_CHAT_ID: required when STORAGE_BACKEND=telegram");
  setenv("TELEGRAM_STORAGE_CHAT_ID", "42", 1);
  assert_int_equal(load(&cfg, err), 0);
  config_free(&cfg);

  static const char *const good_chats[] = {"-100123", "123", " -1 , -2 ,@chan_1", "@abc"};
  for(size_t i = 0; i < sizeof(good_chats) / sizeof(good_chats[0]); i++)
    expect_ok("TELEGRAM_STORAGE_CHAT_ID", good_chats[i]);
  static const char *const bad_chats[] = {"abc", "1,,2", "1,", "@", "@a-b", "--1", "1 2",
                                          "12345678901234567890", "@bad/name"};
  for(size_t i = 0; i < sizeof(bad_chats) / sizeof(bad_chats[0]); i++)
    expect_fail("TELEGRAM_STORAGE_CHAT_ID", bad_chats[i]);
  expect_err("TELEGRAM_STORAGE_CHAT_ID", "1,oops",
             "TELEGRAM_STORAGE_CHAT_ID: must be a comma list of numeric chat ids or @channel "
             "names (bad entry 'oops')");
  /* The first bad entry is named, an empty one as ''. */
  static const char *const empty_first[] = {",1", "1,,oops", "1, ,2", "1,", " ", " , "};
  for(size_t i = 0; i < sizeof(empty_first) / sizeof(empty_first[0]); i++)
    expect_err("TELEGRAM_STORAGE_CHAT_ID", empty_first[i],
               "TELEGRAM_STORAGE_CHAT_ID: must be a comma list of numeric chat ids or @channel "
               "names (bad entry '')");
  expect_err("TELEGRAM_STORAGE_CHAT_ID", "oops,,1",
             "TELEGRAM_STORAGE_CHAT_ID: must be a comma list of numeric chat ids or @channel "
             "names (bad entry 'oops')");
  static const char *const bad_tokens[] = {"a/b", "tok en", "a,", "a?b", "a%2f", "a\x01"};
  for(size_t i = 0; i < sizeof(bad_tokens) / sizeof(bad_tokens[0]); i++)
    expect_fail("TELEGRAM_BOT_TOKEN", bad_tokens[i]);
  char longtok[700];
  memset(longtok, 'a', sizeof(longtok) - 1);
  longtok[sizeof(longtok) - 1] = 0;
  longtok[600] = '/'; /* past any fixed-size item buffer */
  expect_fail("TELEGRAM_BOT_TOKEN", longtok);
  expect_fail("TELEGRAM_API_URL", "ftp://x");
  expect_fail("TELEGRAM_API_URL", "api.telegram.org");
  expect_fail("TELEGRAM_API_URL", "http://");

  /* With the local backend, Telegram placeholders are not checked. */
  setenv("STORAGE_BACKEND", "local", 1);
  setenv("TELEGRAM_BOT_TOKEN", "your token here", 1);
  setenv("TELEGRAM_STORAGE_CHAT_ID", "your-chat-id", 1);
  assert_int_equal(load(&cfg, err), 0);
  config_free(&cfg);
}

static void test_enums(void **state)
{
  struct config cfg;
  char err[256];
  expect_err("STORAGE_BACKEND", "s3", "STORAGE_BACKEND: must be 'local' or 'telegram' (got 's3')");
  expect_ok("STORAGE_BACKEND", "LOCAL");
  expect_err("DEDUP", "copy", "DEDUP: must be 'link' or 'reject' (got 'copy')");
  expect_ok("DEDUP", "Link");
  expect_err("LOG_LEVEL", "verbose",
             "LOG_LEVEL: must be one of debug, info, warn, error (got 'verbose')");
  static const char *const lv[] = {"debug", "info", "warn", "warning", "error"};
  static const int want[] = {LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_WARN, LOG_ERROR};
  for(int i = 0; i < 5; i++) {
    setenv("LOG_LEVEL", lv[i], 1);
    assert_int_equal(load(&cfg, err), 0);
    assert_int_equal(cfg.log_level, want[i]);
    config_free(&cfg);
  }
}

static void test_urls_and_strings(void **state)
{
  struct config cfg;
  char err[256];
  /* DATABASE_URL */
  expect_ok("DATABASE_URL", "sqlite:///tmp/x.db");
  expect_ok("DATABASE_URL", "postgresql://user:pw@localhost:5432/netra");
  expect_ok("DATABASE_URL", "postgres://localhost/netra");
  /* The commands touching chunks refuse local storage on PostgreSQL without
   * SHARED_DATA_DIR=true, naming the way out; SQLite, Telegram or the
   * declaration pass. */
  {
    struct config c2;
    char e2[256] = "";
    set_temporarily("DATABASE_URL", "postgres://localhost/netra");
    assert_int_equal(load(&c2, e2), 0);
    assert_int_equal(config_check_storage(&c2, e2, sizeof(e2)), -1);
    assert_string_equal(e2, "STORAGE_BACKEND: local storage with PostgreSQL (several nodes) "
                            "needs a DATA_DIR every node shares: set SHARED_DATA_DIR=true, or "
                            "use STORAGE_BACKEND=telegram");
    config_free(&c2);
    setenv("SHARED_DATA_DIR", "true", 1);
    assert_int_equal(load(&c2, e2), 0);
    assert_int_equal(config_check_storage(&c2, e2, sizeof(e2)), 0);
    config_free(&c2);
    unsetenv("SHARED_DATA_DIR");
    restore("DATABASE_URL");
    assert_int_equal(load(&c2, e2), 0);   /* SQLite */
    assert_int_equal(config_check_storage(&c2, e2, sizeof(e2)), 0);
    config_free(&c2);
  }
  expect_err("DATABASE_URL", "mysql://localhost/x",
             "DATABASE_URL: must start with sqlite:// or postgresql:// (got 'mysql://localhost/x')");
  expect_fail("DATABASE_URL", "sqlite://");
  expect_fail("DATABASE_URL", "/tmp/x.db");
  expect_fail("DATABASE_URL", "SQLITE:///x.db");
  setenv("DATA_DIR", "/data//", 1);
  assert_int_equal(load(&cfg, err), 0);
  assert_string_equal(cfg.database_url, "sqlite:///data/netradrive.db");
  config_free(&cfg);
  setenv("DATA_DIR", "/", 1);
  assert_int_equal(load(&cfg, err), 0);
  assert_string_equal(cfg.data_dir, "/");
  config_free(&cfg);
  unsetenv("DATA_DIR");

  /* HOST */
  expect_fail("HOST", "bad host");
  expect_fail("HOST", "a/b");
  expect_ok("HOST", "drive.internal");

  /* PUBLIC_URL: one trailing slash stripped, must be http(s). */
  setenv("PUBLIC_URL", "http://localhost:5173/", 1);
  assert_int_equal(load(&cfg, err), 0);
  assert_string_equal(cfg.public_url, "http://localhost:5173");
  config_free(&cfg);
  unsetenv("PUBLIC_URL");
  expect_fail("PUBLIC_URL", "drive.example.com");
  expect_fail("PUBLIC_URL", "javascript:alert(1)");
  expect_fail("PUBLIC_URL", "https://x.example.com/a b");

  /* CORS_ORIGINS */
  expect_ok("CORS_ORIGINS", "*");
  expect_fail("CORS_ORIGINS", "localhost:3000");
  expect_fail("CORS_ORIGINS", "http://a.example,,http://b.example");
  expect_err("CORS_ORIGINS", "http://a.example, evil",
             "CORS_ORIGINS: must be '*' or a comma list of http(s) origins (bad entry 'evil')");

  /* SMTP */
  expect_err("SMTP_URL", "mail.example.com", "SMTP_URL: must start with smtp:// or smtps://");
  expect_fail("SMTP_URL", "smtp://a\r\nb");
  expect_fail("SMTP_FROM", "no-at-sign");
  expect_fail("SMTP_FROM", "a@b.com\r\nBcc: victim@example.com");

  /* SECRET_KEY: at least 16 bytes, and never echoed back. */
  expect_err("SECRET_KEY", "short-secret", "SECRET_KEY: must be at least 16 bytes long");
  expect_ok("SECRET_KEY", "exactly16bytes!!");
}

static void test_ensure_secret_generates(void **state)
{
  struct config cfg;
  char err[256], key1[128];
  struct stat st;
  setenv("DATA_DIR", "nested/a/b", 1);
  assert_int_equal(load(&cfg, err), 0);
  assert_null(cfg.secret_key);
  if(secret_ensure(cfg.data_dir, &cfg.secret_key, err, sizeof(err)))
    fail_msg("%s", err);
  assert_non_null(cfg.secret_key);
  assert_int_equal(strlen(cfg.secret_key), 64);
  assert_int_equal(strspn(cfg.secret_key, "0123456789abcdef"), 64);
  strcpy(key1, cfg.secret_key);
  config_free(&cfg);

  assert_int_equal(stat("nested/a/b/secret_key", &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(st.st_size, 65);
  assert_int_equal(stat("nested/a/b", &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(stat("nested", &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);

  /* No temporary files left behind. */
  DIR *d = opendir("nested/a/b");
  struct dirent *e;
  int files = 0;
  while((e = readdir(d)))
    files += e->d_name[0] != '.';
  closedir(d);
  assert_int_equal(files, 1);

  /* A second start reads the same key; calling twice is a no-op. */
  assert_int_equal(load(&cfg, err), 0);
  assert_int_equal(secret_ensure(cfg.data_dir, &cfg.secret_key, err, sizeof(err)), 0);
  assert_string_equal(cfg.secret_key, key1);
  assert_int_equal(secret_ensure(cfg.data_dir, &cfg.secret_key, err, sizeof(err)), 0);
  assert_string_equal(cfg.secret_key, key1);
  config_free(&cfg);

  /* A different data dir gets a different key. */
  setenv("DATA_DIR", "other", 1);
  assert_int_equal(load(&cfg, err), 0);
  assert_int_equal(secret_ensure(cfg.data_dir, &cfg.secret_key, err, sizeof(err)), 0);
  assert_string_not_equal(cfg.secret_key, key1);
  config_free(&cfg);
}

static void test_ensure_secret_existing(void **state)
{
  struct config cfg;
  char err[256];
  struct stat st;
  assert_int_equal(mkdir("d", 0755), 0);
  setenv("DATA_DIR", "d", 1);

  /* A stored key is read with its trailing newline trimmed. */
  write_file("d/secret_key", "my-stored-secret-key\r\n", 22);
  chmod("d/secret_key", 0600);
  assert_int_equal(load(&cfg, err), 0);
  assert_int_equal(secret_ensure(cfg.data_dir, &cfg.secret_key, err, sizeof(err)), 0);
  assert_string_equal(cfg.secret_key, "my-stored-secret-key");
  config_free(&cfg);
  /* An existing data dir keeps its mode. */
  assert_int_equal(stat("d", &st), 0);
  assert_int_equal(st.st_mode & 0777, 0755);

  /* Too short, empty, or binary: refused rather than silently replaced. */
  static const char *const bad[] = {"short\n", "", "\n\n", "0123456789abcdef\0hidden"};
  static const size_t len[] = {6, 0, 2, 23};
  for(int i = 0; i < 4; i++) {
    write_file("d/secret_key", bad[i], len[i]);
    assert_int_equal(load(&cfg, err), 0);
    assert_int_equal(secret_ensure(cfg.data_dir, &cfg.secret_key, err, sizeof(err)), -1);
    assert_string_equal(err, "d/secret_key: the stored secret key must be at least 16 bytes of text");
    assert_null(cfg.secret_key);
    config_free(&cfg);
  }

  /* secret_key is a directory. */
  unlink("d/secret_key");
  assert_int_equal(mkdir("d/secret_key", 0700), 0);
  assert_int_equal(load(&cfg, err), 0);
  assert_int_equal(secret_ensure(cfg.data_dir, &cfg.secret_key, err, sizeof(err)), -1);
  assert_string_equal(err, "d/secret_key: the secret key must be a regular file");
  config_free(&cfg);

  /* DATA_DIR is a file. */
  write_file("plainfile", "x", 1);
  setenv("DATA_DIR", "plainfile", 1);
  assert_int_equal(load(&cfg, err), 0);
  assert_int_equal(secret_ensure(cfg.data_dir, &cfg.secret_key, err, sizeof(err)), -1);
  assert_int_equal(strncmp(err, "DATA_DIR: cannot create 'plainfile'", 35), 0);
  config_free(&cfg);

  /* SECRET_KEY set: nothing is read or written. */
  setenv("DATA_DIR", "untouched", 1);
  setenv("SECRET_KEY", "an-environment-secret", 1);
  assert_int_equal(load(&cfg, err), 0);
  assert_int_equal(secret_ensure(cfg.data_dir, &cfg.secret_key, err, sizeof(err)), 0);
  assert_string_equal(cfg.secret_key, "an-environment-secret");
  assert_int_equal(stat("untouched", &st), -1);
  config_free(&cfg);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
    T(test_defaults),          T(test_env_values),          T(test_precedence),
    T(test_flags),             T(test_dotenv_syntax),       T(test_dotenv_errors),
    T(test_int_ranges),        T(test_error_value_is_sanitised), T(test_parse_size),
    T(test_parse_bool),        T(test_chunk_size),          T(test_telegram_rules),
    T(test_enums),             T(test_urls_and_strings),    T(test_ensure_secret_generates),
    T(test_ensure_secret_existing),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
