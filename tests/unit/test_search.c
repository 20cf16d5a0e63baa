/* Unit tests for drive/search: query preparation (trim, fold, limits), the
 * FTS5 quoting that keeps every query literal, and the search itself against
 * a throw-away SQLite file: ranking, both paths (trigram index and the short
 * query scan), LIKE and FTS5 metacharacters taken literally, owner and bin
 * filtering, and the triggers that keep the index in step with renames, the
 * bin and deletes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "db/db.h"
#include "drive/search.c"
#include "testdb.h"

#define ALICE "AAAAAAAAAAAAAAAAAAAAAA"
#define BOB "BBBBBBBBBBBBBBBBBBBBBB"

static int next_id;

/* ---- pure helpers ---- */

static void test_prepare_trims_and_folds(void **state)
{
  char out[SEARCH_QUERY_MAX + 1];
  const char *q = "  Annual REPORT\t\n";
  assert_int_equal(search_prepare(q, strlen(q), out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, "annual report");
  /* Greek (with final sigma) and Cyrillic fold like name_key does. */
  q = "\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3"; /* ΣΊΣΥΦΟΣ */
  assert_int_equal(search_prepare(q, strlen(q), out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, "\xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x83");
  q = "\xd0\x9f\xd0\xa0\xd0\x98"; /* ПРИ */
  assert_int_equal(search_prepare(q, strlen(q), out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, "\xd0\xbf\xd1\x80\xd0\xb8");
  /* Inner spaces and metacharacters stay as they are. */
  q = " a  %_\\\"* ";
  assert_int_equal(search_prepare(q, strlen(q), out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, "a  %_\\\"*");
}

/* Names are stored in NFC (name_clean), so a query typed decomposed must
 * prepare to the same key as the composed one. */
static void test_prepare_nfc(void **state)
{
  char out[SEARCH_QUERY_MAX + 1], key[NAME_MAX_BYTES + 1];
  const char *q = " CAFE\xcc\x81 "; /* "CAFE" + U+0301 */
  assert_int_equal(search_prepare(q, strlen(q), out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, "caf\xc3\xa9");
  assert_int_equal(utf8_fold("Caf\xc3\xa9", key, sizeof(key)), 0); /* the name_key */
  assert_string_equal(out, key);
  /* Already NFC: unchanged; U+212B ANGSTROM SIGN composes and folds to U+00E5. */
  q = "r\xc3\xa9sum\xc3\xa9";
  assert_int_equal(search_prepare(q, strlen(q), out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, q);
  q = "\xe2\x84\xab";
  assert_int_equal(search_prepare(q, strlen(q), out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, "\xc3\xa5");
  /* 340 x ("I" + U+0307), 1020 bytes, compose to U+0130 and fold to "i": 340
   * bytes, longer than a name, so it matches nothing. 85 of them still match. */
  char in[SEARCH_QUERY_MAX];
  for(int i = 0; i < 340; i++)
    memcpy(in + 3 * i, "I\xcc\x87", 3);
  assert_int_equal(search_prepare(in, 255, out, sizeof(out)), DRIVE_OK);
  assert_int_equal(strlen(out), 85);
  assert_int_equal(out[0], 'i');
  assert_int_equal(search_prepare(in, 1020, out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, "");
  /* An NFC form that outgrows the scratch (U+1D160 grows threefold) matches nothing. */
  for(int i = 0; i < 256; i++)
    memcpy(in + 4 * i, "\xf0\x9d\x85\xa0", 4);
  assert_int_equal(search_prepare(in, SEARCH_QUERY_MAX, out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, "");
}

static void test_prepare_empty_invalid(void **state)
{
  char out[SEARCH_QUERY_MAX + 1];
  assert_int_equal(search_prepare(NULL, 0, out, sizeof(out)), DRIVE_MISSING);
  assert_int_equal(search_prepare("", 0, out, sizeof(out)), DRIVE_MISSING);
  assert_int_equal(search_prepare(" \t\r\n ", 5, out, sizeof(out)), DRIVE_MISSING);
  assert_int_equal(search_prepare("\xff\xfe", 2, out, sizeof(out)), DRIVE_INVALID);
  assert_int_equal(search_prepare("\xc3", 1, out, sizeof(out)), DRIVE_INVALID);
  assert_int_equal(search_prepare("a\0b", 3, out, sizeof(out)), DRIVE_INVALID);
  assert_string_equal(out, "");
}

static void test_prepare_lengths(void **state)
{
  char in[4000], out[SEARCH_QUERY_MAX + 1];
  /* 255 bytes can still match a name; 256 cannot. */
  memset(in, 'a', 256);
  assert_int_equal(search_prepare(in, 255, out, sizeof(out)), DRIVE_OK);
  assert_int_equal(strlen(out), 255);
  assert_int_equal(search_prepare(in, 256, out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, ""); /* matches nothing */
  /* 100 KELVIN SIGNs are 300 bytes but fold to "k" x 100: still a query. */
  for(int i = 0; i < 100; i++)
    memcpy(in + 3 * i, "\xe2\x84\xaa", 3);
  assert_int_equal(search_prepare(in, 300, out, sizeof(out)), DRIVE_OK);
  assert_int_equal(strlen(out), 100);
  assert_int_equal(out[0], 'k');
  /* Beyond SEARCH_QUERY_MAX nothing is folded at all. */
  memset(in, 'a', sizeof(in));
  assert_int_equal(search_prepare(in, SEARCH_QUERY_MAX + 1, out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, ""); /* matches nothing */
  assert_int_equal(search_prepare(in, sizeof(in), out, sizeof(out)), DRIVE_OK);
  assert_string_equal(out, ""); /* matches nothing */
}

static void test_fts_quote(void **state)
{
  char out[64];
  assert_int_equal(search_fts_quote("report", out, sizeof(out)), 0);
  assert_string_equal(out, "\"report\"");
  assert_int_equal(search_fts_quote("a\"b", out, sizeof(out)), 0);
  assert_string_equal(out, "\"a\"\"b\"");
  assert_int_equal(search_fts_quote("\"", out, sizeof(out)), 0);
  assert_string_equal(out, "\"\"\"\"");
  assert_int_equal(search_fts_quote("a OR b* NEAR(c) -d ^e {f}:", out, sizeof(out)), 0);
  assert_string_equal(out, "\"a OR b* NEAR(c) -d ^e {f}:\"");
  assert_int_equal(search_fts_quote("", out, sizeof(out)), 0);
  assert_string_equal(out, "\"\"");
  /* Exact fit, one byte short, and a doubled quote that does not fit. */
  assert_int_equal(search_fts_quote("abc", out, 6), 0);
  assert_string_equal(out, "\"abc\"");
  assert_int_equal(search_fts_quote("abc", out, 5), -1);
  assert_string_equal(out, "");
  assert_int_equal(search_fts_quote("ab\"", out, 6), -1);
  assert_int_equal(search_fts_quote("ab\"", out, 7), 0);
  assert_string_equal(out, "\"ab\"\"\"");
  assert_int_equal(search_fts_quote("a", out, 2), -1);
}

static void test_char_count(void **state)
{
  assert_int_equal(search_char_count(""), 0);
  assert_int_equal(search_char_count("ab"), 2);
  assert_int_equal(search_char_count("\xc3\xa9t\xc3\xa9"), 3);      /* été */
  assert_int_equal(search_char_count("\xe6\x97\xa5\xf0\x9f\x93\x81"), 2); /* 日📁 */
}

/* ---- against the database ---- */

static int setup_db(void **state)
{
  if(testdb_open("search") != 0)
    return -1;
  db_t *db = db_get();
  const char *users[] = {ALICE, BOB};
  for(int i = 0; i < 2; i++) {
    const char *key = i ? "u1" : "u0";
    if(db_exec(db, "INSERT INTO users (id, username, username_key, email, email_key, "
               "password_hash, is_verified, created_at, updated_at) "
               "VALUES ($1, $2, $2, $2, $2, 'x', 1, 0, 0)", "tt", users[i], key) ||
       db_exec(db, "INSERT INTO contents (id, owner_id, sha256, size, chunk_size, chunk_count, "
               "backend, created_at) VALUES ($1, $1, 'h', 1, 1, 1, 'local', 0)", "t", users[i]))
      return -1;
  }
  return 0;
}

static int teardown_db(void **state)
{
  testdb_close();
  return 0;
}

/* A fresh 22-character id. */
static void make_id(char out[ID_LEN + 1])
{
  char tmp[48];
  snprintf(tmp, sizeof(tmp), "T%021d", ++next_id);
  memcpy(out, tmp, ID_LEN);
  out[ID_LEN] = 0;
}

/* Inserts a live file (or folder) of `owner` named `name`; its id in `id`. */
static void add_item(bool folder, const char *owner, const char *name, char id[ID_LEN + 1])
{
  char key[NAME_MAX_BYTES + 1];
  make_id(id);
  assert_int_equal(utf8_fold(name, key, sizeof(key)), 0);
  if(folder)
    assert_int_equal(db_exec(db_get(), "INSERT INTO folders (id, owner_id, name, name_key, "
                             "created_at, updated_at) VALUES ($1, $2, $3, $4, 0, 0)",
                             "tttt", id, owner, name, key), DB_OK);
  else
    assert_int_equal(db_exec(db_get(), "INSERT INTO files (id, owner_id, content_id, name, "
                             "name_key, mime_type, size, sha256, created_at, updated_at) "
                             "VALUES ($1, $2, $2, $3, $4, 'text/plain', 1, 'h', 0, 0)",
                             "tttt", id, owner, name, key), DB_OK);
}

/* Collects hit names as "F:name|" (folders) and "f:name|" (files). */
struct hits {
  char text[4096];
  int stop_after; /* 0 = never stop */
  int count;
};

static int hit_append(struct hits *h, char kind, const char *name)
{
  size_t n = strlen(h->text);
  snprintf(h->text + n, sizeof(h->text) - n, "%c:%s|", kind, name);
  h->count++;
  return h->stop_after && h->count >= h->stop_after ? 42 : 0;
}

static int hit_folder(const struct folder *f, void *arg)
{
  assert_false(f->is_deleted);
  return hit_append(arg, 'F', f->name);
}

static int hit_file(const struct file_rec *f, void *arg)
{
  assert_false(f->is_deleted);
  return hit_append(arg, 'f', f->name);
}

/* Runs a raw query for `owner` like the API does; returns the hit list. */
static const char *run(const char *owner, const char *raw, int64_t limit)
{
  static struct hits h;
  char key[SEARCH_QUERY_MAX + 1];
  memset(&h, 0, sizeof(h));
  if(search_prepare(raw, strlen(raw), key, sizeof(key)) != DRIVE_OK)
    return "(not searched)";
  struct search_sink sink = {hit_folder, hit_file, &h};
  assert_int_equal(search_names(owner, key, limit, &sink), DRIVE_OK);
  return h.text;
}

static void test_search_ranking(void **state)
{
  char id[ID_LEN + 1];
  add_item(false, ALICE, "annual report 2024.PDF", id);
  add_item(false, ALICE, "Report.pdf", id);
  add_item(false, ALICE, "REPORT", id);
  add_item(false, ALICE, "my reports", id);
  add_item(false, ALICE, "Reportage", id);
  add_item(true, ALICE, "Reports", id);
  add_item(true, ALICE, "old report", id);
  add_item(false, BOB, "report", id);
  add_item(true, BOB, "report", id);
  /* Exact, then prefix by name, then substring by name; folders first. */
  assert_string_equal(run(ALICE, "report", 100),
                      "F:Reports|F:old report|"
                      "f:REPORT|f:Report.pdf|f:Reportage|f:annual report 2024.PDF|f:my reports|");
  assert_string_equal(run(ALICE, "  rEpOrT ", 2), "F:Reports|F:old report|f:REPORT|f:Report.pdf|");
  assert_string_equal(run(BOB, "REP", 100), "F:report|f:report|");
  assert_string_equal(run(ALICE, "nothing like it", 100), "");
}

static void test_search_short_and_unicode(void **state)
{
  char id[ID_LEN + 1];
  add_item(false, ALICE, "ab", id);
  add_item(false, ALICE, "xAbx", id);
  add_item(false, ALICE, "\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3.txt", id);
  add_item(false, ALICE, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82.doc", id);
  add_item(false, ALICE, "\xe6\x97\xa5\xe6\x9c\xac", id); /* 日本 */
  /* One and two characters take the scan path. */
  assert_string_equal(run(ALICE, "AB", 100), "f:ab|f:xAbx|");
  assert_string_equal(run(ALICE, "\xe6\x97\xa5", 100), "f:\xe6\x97\xa5\xe6\x9c\xac|");
  /* σίσ (3 characters, 6 bytes) takes the trigram path; so does ПРИВЕТ. */
  assert_string_equal(run(ALICE, "\xcf\x83\xce\xaf\xcf\x83", 100),
                      "f:\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3.txt|");
  assert_string_equal(run(ALICE, "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2", 100),
                      "f:\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82.doc|");
}

static void test_search_literal(void **state)
{
  char id[ID_LEN + 1];
  add_item(false, ALICE, "100%_done\\x.txt", id);
  add_item(false, ALICE, "1000 done.txt", id);
  add_item(true, ALICE, "say \"hi\" OR bye*", id);
  add_item(true, ALICE, "say hi", id);
  /* LIKE wildcards are plain characters, on both paths. */
  assert_string_equal(run(ALICE, "%", 100), "f:100%_done\\x.txt|");
  assert_string_equal(run(ALICE, "_", 100), "f:100%_done\\x.txt|");
  assert_string_equal(run(ALICE, "\\", 100), "f:100%_done\\x.txt|");
  assert_string_equal(run(ALICE, "0%_d", 100), "f:100%_done\\x.txt|");
  assert_string_equal(run(ALICE, "0_", 100), ""); /* as LIKE, "00" would match */
  /* FTS5 syntax is plain text too. */
  assert_string_equal(run(ALICE, "\"hi\"", 100), "F:say \"hi\" OR bye*|");
  assert_string_equal(run(ALICE, "\"", 100), "F:say \"hi\" OR bye*|");
  assert_string_equal(run(ALICE, "hi OR", 100), "");
  assert_string_equal(run(ALICE, "\" OR bye*", 100), "F:say \"hi\" OR bye*|");
  assert_string_equal(run(ALICE, "say*", 100), "");
  assert_string_equal(run(ALICE, "NEAR(say hi)", 100), "");
  assert_string_equal(run(ALICE, "{name_key}: say", 100), "");
  assert_string_equal(run(ALICE, "say -hi", 100), "");
  assert_string_equal(run(ALICE, "^say", 100), "");
}

static void test_search_follows_changes(void **state)
{
  char fid[ID_LEN + 1], did[ID_LEN + 1];
  db_t *db = db_get();
  add_item(false, ALICE, "Quarterly Zeta.xls", fid);
  add_item(true, ALICE, "Zeta Folder", did);
  assert_string_equal(run(ALICE, "zeta", 100), "F:Zeta Folder|f:Quarterly Zeta.xls|");

  /* The bin hides items; restoring brings them back. */
  assert_int_equal(db_exec(db, "UPDATE files SET is_deleted = 1, deleted_at = 1 WHERE id = $1",
                           "t", fid), DB_OK);
  assert_int_equal(db_exec(db, "UPDATE folders SET is_deleted = 1 WHERE id = $1", "t", did),
                   DB_OK);
  assert_string_equal(run(ALICE, "zeta", 100), "");
  assert_string_equal(run(ALICE, "ze", 100), "");
  assert_int_equal(db_exec(db, "UPDATE files SET is_deleted = 0 WHERE id = $1", "t", fid), DB_OK);
  assert_int_equal(db_exec(db, "UPDATE folders SET is_deleted = 0 WHERE id = $1", "t", did),
                   DB_OK);
  assert_string_equal(run(ALICE, "zeta", 100), "F:Zeta Folder|f:Quarterly Zeta.xls|");

  /* Renames: the old name is gone, the new one is found. */
  assert_int_equal(db_exec(db, "UPDATE files SET name = 'Omega.xls', name_key = 'omega.xls' "
                           "WHERE id = $1", "t", fid), DB_OK);
  assert_string_equal(run(ALICE, "zeta", 100), "F:Zeta Folder|");
  assert_string_equal(run(ALICE, "OMEGA", 100), "f:Omega.xls|");
  /* Changes that do not touch the name leave the index alone. */
  assert_int_equal(db_exec(db, "UPDATE files SET is_starred = 1, size = 5 WHERE id = $1", "t",
                           fid), DB_OK);
  assert_string_equal(run(ALICE, "omega", 100), "f:Omega.xls|");

  /* Deletes. */
  assert_int_equal(db_exec(db, "DELETE FROM files WHERE id = $1", "t", fid), DB_OK);
  assert_int_equal(db_exec(db, "DELETE FROM folders WHERE id = $1", "t", did), DB_OK);
  assert_string_equal(run(ALICE, "omega", 100), "");
  assert_string_equal(run(ALICE, "zeta", 100), "");
  int64_t n = -1;
  assert_int_equal(db_query_int(db, &n, "SELECT COUNT(*) FROM search_items WHERE item_id IN "
                                "($1, $2)", "tt", fid, did), DB_ROW);
  assert_int_equal(n, 0);
  /* The index and its content table agree. */
  assert_int_equal(db_exec(db, "INSERT INTO search_fts(search_fts) VALUES ('integrity-check')",
                           ""), DB_OK);
}

static void test_search_limit_and_stop(void **state)
{
  char id[ID_LEN + 1], name[32];
  for(int i = 0; i < 30; i++) {
    snprintf(name, sizeof(name), "limit-%02d", 29 - i);
    add_item(false, ALICE, name, id);
  }
  struct hits h;
  memset(&h, 0, sizeof(h));
  struct search_sink sink = {hit_folder, hit_file, &h};
  assert_int_equal(search_names(ALICE, "limit-", 5, &sink), DRIVE_OK);
  assert_string_equal(h.text, "f:limit-00|f:limit-01|f:limit-02|f:limit-03|f:limit-04|");
  /* A sink's code stops the search and comes back. */
  memset(&h, 0, sizeof(h));
  h.stop_after = 2;
  assert_int_equal(search_names(ALICE, "limit-", 100, &sink), 42);
  assert_int_equal(h.count, 2);
  /* Bad arguments. */
  assert_int_equal(search_names(ALICE, "", 10, &sink), DRIVE_INVALID);
  assert_int_equal(search_names(ALICE, "x", 0, &sink), DRIVE_INVALID);
  assert_int_equal(search_names(ALICE, "x", SEARCH_LIMIT_MAX + 1, &sink),
                   DRIVE_INVALID);
}

int main(void)
{
  /* One group (tools/run-unit.sh counts one summary per binary); the pure
   * tests do not touch the database the group sets up. */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_prepare_trims_and_folds),
    cmocka_unit_test(test_prepare_nfc),
    cmocka_unit_test(test_prepare_empty_invalid),
    cmocka_unit_test(test_prepare_lengths),
    cmocka_unit_test(test_fts_quote),
    cmocka_unit_test(test_char_count),
    cmocka_unit_test(test_search_ranking),
    cmocka_unit_test(test_search_short_and_unicode),
    cmocka_unit_test(test_search_literal),
    cmocka_unit_test(test_search_follows_changes),
    cmocka_unit_test(test_search_limit_and_stop),
  };
  return cmocka_run_group_tests_name("search", tests, setup_db, teardown_db);
}
