/* Unit tests for util/names: the name rules (API §1), strict UTF-8, NFC and case folding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/names.c"

static void test_name_clean_ok(void **state)
{
  char out[NAME_MAX_BYTES + 1];
  assert_null(name_clean("report.pdf", out, sizeof(out)));
  assert_string_equal(out, "report.pdf");
  assert_null(name_clean("   my file  .txt   ", out, sizeof(out)));
  assert_string_equal(out, "my file  .txt");
  assert_null(name_clean("...", out, sizeof(out)));
  assert_null(name_clean(".hidden", out, sizeof(out)));
  assert_null(name_clean("a\\b:c*?\"<>|", out, sizeof(out))); /* only '/' is special */
  assert_null(name_clean("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x93\x81", out,
                         sizeof(out)));
  assert_string_equal(out, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x93\x81");
  assert_null(name_clean("\xc2\xa0nbsp\xc2\xa0", out, sizeof(out))); /* U+00A0 is not trimmed */
  assert_string_equal(out, "\xc2\xa0nbsp\xc2\xa0");
  assert_null(name_clean("\xc2\xa0", out, sizeof(out))); /* U+00A0 (first after C1) allowed */
}

static void test_name_clean_lengths(void **state)
{
  char in[600], out[NAME_MAX_BYTES + 1];
  memset(in, 'a', 255);
  in[255] = 0;
  assert_null(name_clean(in, out, sizeof(out)));
  assert_int_equal(strlen(out), 255);
  in[255] = 'a';
  in[256] = 0;
  assert_string_equal(name_clean(in, out, sizeof(out)), "Name must be at most 255 bytes long");
  /* 255 bytes once the surrounding spaces are gone. */
  memset(in, ' ', 100);
  memset(in + 100, 'b', 255);
  memset(in + 355, ' ', 100);
  in[455] = 0;
  assert_null(name_clean(in, out, sizeof(out)));
  assert_int_equal(strlen(out), 255);
  /* 85 three-byte characters = 255 bytes; one more is 258. */
  for(int i = 0; i < 86; i++)
    memcpy(in + 3 * i, "\xe2\x82\xac", 3);
  in[255] = 0;
  assert_null(name_clean(in, out, sizeof(out)));
  in[255] = '\xe2';
  in[258] = 0;
  assert_string_equal(name_clean(in, out, sizeof(out)), "Name must be at most 255 bytes long");
  /* Cutting a multi-byte character in half is invalid UTF-8. */
  in[254] = 0;
  assert_string_equal(name_clean(in, out, sizeof(out)), "Name must be valid UTF-8");
}

static void test_name_clean_rejects(void **state)
{
  char out[NAME_MAX_BYTES + 1];
  strcpy(out, "untouched");
  assert_string_equal(name_clean(NULL, out, sizeof(out)), "Name is required");
  assert_string_equal(name_clean("", out, sizeof(out)), "Name must not be empty");
  assert_string_equal(name_clean("     ", out, sizeof(out)), "Name must not be empty");
  assert_string_equal(name_clean("a/b", out, sizeof(out)), "Name must not contain '/'");
  assert_string_equal(name_clean("/", out, sizeof(out)), "Name must not contain '/'");
  assert_string_equal(name_clean("../etc", out, sizeof(out)), "Name must not contain '/'");
  assert_string_equal(name_clean(".", out, sizeof(out)), "Name must not be '.' or '..'");
  assert_string_equal(name_clean("..", out, sizeof(out)), "Name must not be '.' or '..'");
  assert_string_equal(name_clean("  ..  ", out, sizeof(out)), "Name must not be '.' or '..'");
  static const char *const ctl[] = {"a\tb", "a\nb", "a\rb", "\x01", "a\x1f", "a\x7f",
                                    "a\xc2\x80", "a\xc2\x85", "a\xc2\x9f", "\x1b[31mred"};
  for(size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++)
    assert_string_equal(name_clean(ctl[i], out, sizeof(out)),
                        "Name must not contain control characters");
  static const char *const bad_utf8[] = {"\xff", "a\x80", "\xc0\xaf", "\xe0\x80\xaf",
                                         "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3",
                                         "\xf0\x9f\x93", "\xc0\xae\xc0\xae" /* overlong ".." */};
  for(size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++)
    assert_string_equal(name_clean(bad_utf8[i], out, sizeof(out)), "Name must be valid UTF-8");
  /* Overlong '/' must not sneak past the slash check either. */
  assert_non_null(name_clean("a\xc0\xaf" "b", out, sizeof(out)));
  assert_string_equal(out, "untouched");
}

static void test_name_clean_buffers(void **state)
{
  char small[4];
  assert_string_equal(name_clean("abcd", small, sizeof(small)), "Name is too long");
  assert_null(name_clean(" abc ", small, sizeof(small)));
  assert_string_equal(small, "abc");
  /* In place. */
  char buf[32] = "   in place   ";
  assert_null(name_clean(buf, buf, sizeof(buf)));
  assert_string_equal(buf, "in place");
}

#define NAME_BIDI "Name must not contain bidirectional control characters"

static void test_name_clean_bidi(void **state)
{
  /* Every Bidi_Control code point, alone, inside a name and at its end. */
  static const char *const bidi[] = {
    "\xd8\x9c",     /* U+061C ALM */ "\xe2\x80\x8e", /* U+200E LRM */
    "\xe2\x80\x8f", /* U+200F RLM */ "\xe2\x80\xaa", /* U+202A LRE */
    "\xe2\x80\xab", /* U+202B RLE */ "\xe2\x80\xac", /* U+202C PDF */
    "\xe2\x80\xad", /* U+202D LRO */ "\xe2\x80\xae", /* U+202E RLO */
    "\xe2\x81\xa6", /* U+2066 LRI */ "\xe2\x81\xa7", /* U+2067 RLI */
    "\xe2\x81\xa8", /* U+2068 FSI */ "\xe2\x81\xa9", /* U+2069 PDI */
  };
  char in[64], out[NAME_MAX_BYTES + 1];
  strcpy(out, "untouched");
  for(size_t i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++) {
    assert_string_equal(name_clean(bidi[i], out, sizeof(out)), NAME_BIDI);
    snprintf(in, sizeof(in), "photo%sgpj.exe", bidi[i]);
    assert_string_equal(name_clean(in, out, sizeof(out)), NAME_BIDI);
    snprintf(in, sizeof(in), "  report%s  ", bidi[i]);
    assert_string_equal(name_clean(in, out, sizeof(out)), NAME_BIDI);
  }
  assert_string_equal(out, "untouched");
  /* Their neighbours, and other invisible format characters, stay allowed:
   * U+061B, U+061D, U+200C ZWNJ, U+200D ZWJ, U+2029, U+202F, U+2065, U+206A. */
  static const char *const ok[] = {"\xd8\x9b", "\xd8\x9d", "a\xe2\x80\x8c" "b", "a\xe2\x80\x8d" "b",
                                   "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\xa5", "\xe2\x81\xaa"};
  for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    assert_null(name_clean(ok[i], out, sizeof(out)));
    assert_string_equal(out, ok[i]);
  }
}

static void nfc_eq(const char *in, const char *want)
{
  char out[NAME_MAX_BYTES + 1];
  assert_null(name_clean(in, out, sizeof(out)));
  assert_string_equal(out, want);
}

static void test_name_clean_nfc(void **state)
{
  nfc_eq("cafe\xcc\x81", "caf\xc3\xa9");             /* e + U+0301 -> U+00E9 */
  nfc_eq("  cafe\xcc\x81  ", "caf\xc3\xa9");         /* trimmed, then composed */
  nfc_eq("caf\xc3\xa9", "caf\xc3\xa9");              /* already NFC: unchanged */
  nfc_eq("report.pdf", "report.pdf");
  nfc_eq("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac");
  /* Canonical reordering: U+0323 (ccc 220) before U+0307 (ccc 230) -> U+1E0D U+0307. */
  nfc_eq("d\xcc\x87\xcc\xa3", "\xe1\xb8\x8d\xcc\x87");
  /* Shorter: U+212B ANGSTROM SIGN (3 bytes) -> U+00C5 (2); Hangul jamo L V T
   * (9 bytes) -> one syllable U+D55C (3). */
  nfc_eq("\xe2\x84\xab", "\xc3\x85");
  nfc_eq("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", "\xed\x95\x9c");
  /* Longer: U+0958 (3 bytes) is a composition exclusion, NFC U+0915 U+093C (6). */
  nfc_eq("\xe0\xa5\x98", "\xe0\xa4\x95\xe0\xa4\xbc");
  /* In place, growing. */
  char buf[NAME_MAX_BYTES + 1] = " \xe0\xa5\x98.txt ";
  assert_null(name_clean(buf, buf, sizeof(buf)));
  assert_string_equal(buf, "\xe0\xa4\x95\xe0\xa4\xbc.txt");
}

static void test_name_clean_nfc_lengths(void **state)
{
  char in[NAME_MAX_BYTES + 1], out[NAME_MAX_BYTES + 1];
  /* 42 x U+0958 = 126 bytes, NFC 252: fits. 85 x = 255 bytes, NFC 510: too long. */
  for(int i = 0; i < 85; i++)
    memcpy(in + 3 * i, "\xe0\xa5\x98", 3);
  in[126] = 0;
  assert_null(name_clean(in, out, sizeof(out)));
  assert_int_equal(strlen(out), 252);
  in[126] = '\xe0';
  in[255] = 0;
  strcpy(out, "untouched");
  assert_string_equal(name_clean(in, out, sizeof(out)), "Name must be at most 255 bytes long");
  assert_string_equal(out, "untouched");
  /* 85 ANGSTROM SIGNs (255 bytes) shrink to 170. */
  for(int i = 0; i < 85; i++)
    memcpy(in + 3 * i, "\xe2\x84\xab", 3);
  assert_null(name_clean(in, out, sizeof(out)));
  assert_int_equal(strlen(out), 170);
  /* A caller's buffer is checked against the NFC form. */
  char small[4];
  assert_string_equal(name_clean("\xe0\xa5\x98", small, sizeof(small)), "Name is too long");
  assert_null(name_clean("e\xcc\x81" "a", small, sizeof(small)));
  assert_string_equal(small, "\xc3\xa9" "a");
}

static void test_utf8_nfc(void **state)
{
  char out[64];
  assert_int_equal(utf8_nfc("Cafe\xcc\x81", 6, out, sizeof(out)), 5);
  assert_string_equal(out, "Caf\xc3\xa9");
  /* Threefold growth: U+1D160 (4 bytes) -> U+1D158 U+1D165 U+1D16E (12). */
  assert_int_equal(utf8_nfc("\xf0\x9d\x85\xa0", 4, out, sizeof(out)), 12);
  assert_memory_equal(out, "\xf0\x9d\x85\x98\xf0\x9d\x85\xa5\xf0\x9d\x85\xae", 13);
  /* Only `n` bytes are read. */
  assert_int_equal(utf8_nfc("abc", 2, out, sizeof(out)), 2);
  assert_string_equal(out, "ab");
  assert_int_equal(utf8_nfc("", 0, out, sizeof(out)), 0);
  assert_string_equal(out, "");
  /* Errors leave "": invalid input, too long an input, too small an output. */
  strcpy(out, "x");
  assert_int_equal(utf8_nfc("\xc3", 1, out, sizeof(out)), -1);
  assert_string_equal(out, "");
  assert_int_equal(utf8_nfc("\xed\xa0\x80", 3, out, sizeof(out)), -1);
  char big[UTF8_NFC_MAX + 2];
  memset(big, 'a', sizeof(big));
  char bigout[UTF8_NFC_MAX + 2];
  assert_int_equal(utf8_nfc(big, UTF8_NFC_MAX, bigout, sizeof(bigout)), UTF8_NFC_MAX);
  assert_int_equal(utf8_nfc(big, UTF8_NFC_MAX + 1, bigout, sizeof(bigout)), -1);
  assert_string_equal(bigout, "");
  strcpy(out, "x");
  assert_int_equal(utf8_nfc("abc", 3, out, 3), -1);
  assert_string_equal(out, "");
  assert_int_equal(utf8_nfc("abc", 3, out, 4), 3);
  assert_int_equal(utf8_nfc("abc", 3, out, 0), -1);
  /* UTF8_NFC_MAX bytes of the most expanding decomposition still fit the scratch. */
  for(int i = 0; i < UTF8_NFC_MAX / 2; i++)
    memcpy(big + 2 * i, "\xc7\x95", 2); /* U+01D5: U + U+0308 + U+0304, composed back */
  assert_int_equal(utf8_nfc(big, UTF8_NFC_MAX, bigout, sizeof(bigout)), UTF8_NFC_MAX);
  assert_memory_equal(bigout, big, UTF8_NFC_MAX);
}

static void test_utf8_valid(void **state)
{
  static const char *const good[] = {
    "", "plain ascii", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
    "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xf3\xbf\xbf\xbf",
  };
  for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    assert_true(utf8_valid(good[i], strlen(good[i])));
  static const char *const bad[] = {
    "\x80",             /* lone continuation */
    "\xbf",
    "\xc0\x80",         /* overlong NUL */
    "\xc1\xbf",         /* overlong */
    "\xe0\x9f\xbf",     /* overlong 3-byte */
    "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
    "\xed\xa0\x80",     /* high surrogate */
    "\xed\xbf\xbf",     /* low surrogate */
    "\xf4\x90\x80\x80", /* U+110000 */
    "\xf5\x80\x80\x80",
    "\xf8\x88\x80\x80\x80",
    "\xfe", "\xff",
    "\xc2",             /* truncated */
    "\xe2\x82",
    "\xf0\x9f\x98",
    "\xe2\x28\xa1",     /* bad second byte */
    "\xe2\x82\x28",     /* bad third byte */
    "\xf0\x9f\x98\x28", /* bad fourth byte */
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_false(utf8_valid(bad[i], strlen(bad[i])));
  /* Length-bounded: embedded NUL is valid, and bytes after n are not read. */
  assert_true(utf8_valid("a\0b", 3));
  assert_false(utf8_valid("\xe2\x82\xac", 2));
  assert_true(utf8_valid("\xe2\x82\xac\xff", 3));
}

static void fold_eq(const char *in, const char *want)
{
  char out[256];
  assert_int_equal(utf8_fold(in, out, sizeof(out)), 0);
  assert_string_equal(out, want);
}

static void test_utf8_fold(void **state)
{
  fold_eq("", "");
  fold_eq("Hello, WORLD 123!", "hello, world 123!");
  fold_eq("\xc3\x80\xc3\x89\xc3\x8e\xc3\x95\xc3\x9c\xc3\x9e", /* ÀÉÎÕÜÞ */
          "\xc3\xa0\xc3\xa9\xc3\xae\xc3\xb5\xc3\xbc\xc3\xbe");
  fold_eq("\xc3\x97\xc3\x9f\xc3\xb7", "\xc3\x97\xc3\x9f\xc3\xb7"); /* × ß ÷ unchanged */
  fold_eq("\xc2\xb5", "\xce\xbc");                                 /* micro -> mu */
  fold_eq("\xc4\x80\xc4\x82\xc4\x84\xc4\x86", "\xc4\x81\xc4\x83\xc4\x85\xc4\x87"); /* ĀĂĄĆ */
  fold_eq("\xc5\x81\xc3\xb3" "d\xc5\xba", "\xc5\x82\xc3\xb3" "d\xc5\xba"); /* Łódź */
  fold_eq("\xc5\xbb\xc5\xbd\xc5\xb8", "\xc5\xbc\xc5\xbe\xc3\xbf");   /* ŻŽŸ */
  fold_eq("\xc4\xb0stanbul", "istanbul");                            /* İ -> i */
  fold_eq("\xc4\xb1", "\xc4\xb1");                                   /* ı stays */
  fold_eq("\xc5\xbf", "s");                                          /* long s */
  fold_eq("\xc4\xb8\xc5\x89", "\xc4\xb8\xc5\x89");                   /* ĸ ŉ unchanged */
  /* Greek: ΟΔΥΣΣΕΥΣ and the final sigma of οδυσσευς fold alike. */
  fold_eq("\xce\x9f\xce\x94\xce\xa5\xce\xa3\xce\xa3\xce\x95\xce\xa5\xce\xa3",
          "\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x85\xcf\x83");
  fold_eq("\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x85\xcf\x82",
          "\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x85\xcf\x83");
  fold_eq("\xce\x86\xce\x88\xce\x89\xce\x8a\xce\x8c\xce\x8e\xce\x8f", /* ΆΈΉΊΌΎΏ */
          "\xce\xac\xce\xad\xce\xae\xce\xaf\xcf\x8c\xcf\x8d\xcf\x8e");
  fold_eq("\xce\xaa\xce\xab", "\xcf\x8a\xcf\x8b");                     /* ΪΫ */
  fold_eq("\xcf\x90\xcf\x91\xcf\x95\xcf\x96\xcf\xb0\xcf\xb1\xcf\xb5",  /* ϐϑϕϖϰϱϵ */
          "\xce\xb2\xce\xb8\xcf\x86\xcf\x80\xce\xba\xcf\x81\xce\xb5");
  fold_eq("\xcf\xbd\xcf\xbe\xcf\xbf", "\xcd\xbb\xcd\xbc\xcd\xbd");     /* ϽϾϿ */
  /* Cyrillic. */
  fold_eq("\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2", /* ПРИВЕТ */
          "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
  fold_eq("\xd0\x81\xd0\x82\xd0\x8f", "\xd1\x91\xd1\x92\xd1\x9f");     /* ЁЂЏ */
  fold_eq("\xd1\xa2\xd2\x90\xd3\x81\xd3\x80\xd3\x90\xd4\x80",          /* ѢҐӁӀӐԀ */
          "\xd1\xa3\xd2\x91\xd3\x82\xd3\x8f\xd3\x91\xd4\x81");
  fold_eq("\xd2\x82\xd2\x83", "\xd2\x82\xd2\x83");                     /* ҂ and a combining mark */
  /* Sign variants, and scripts outside the covered blocks. */
  fold_eq("\xe2\x84\xaa\xe2\x84\xab\xe1\xba\x9e", "k\xc3\xa5\xc3\x9f"); /* Kelvin, Angstrom, ẞ */
  fold_eq("\xe6\x97\xa5\xf0\x9f\x98\x80\xd5\x80\xef\xbc\xa1", /* 日, emoji, Armenian, fullwidth A */
          "\xe6\x97\xa5\xf0\x9f\x98\x80\xd5\x80\xef\xbc\xa1");
}

static void test_utf8_fold_errors(void **state)
{
  char out[16];
  assert_int_equal(utf8_fold("ab\xff", out, sizeof(out)), -1);
  assert_string_equal(out, "");
  assert_int_equal(utf8_fold("\xed\xa0\x80", out, sizeof(out)), -1);
  assert_int_equal(utf8_fold("\xc3", out, sizeof(out)), -1);
  /* Too small; exact size works; zero size writes nothing. */
  assert_int_equal(utf8_fold("ABCD", out, 4), -1);
  assert_string_equal(out, "");
  assert_int_equal(utf8_fold("ABCD", out, 5), 0);
  assert_string_equal(out, "abcd");
  out[0] = 'x';
  assert_int_equal(utf8_fold("A", out, 0), -1);
  assert_int_equal(out[0], 'x');
  /* In place, including a shrinking character. */
  char buf[32] = "\xc4\xb0I\xe2\x84\xaaX";
  assert_int_equal(utf8_fold(buf, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "iikx");
}

/* Every scalar value: folding yields valid UTF-8 no longer than the input, is
 * idempotent, and agrees with the ASCII rule below 0x80. */
static void test_utf8_fold_all_code_points(void **state)
{
  for(uint32_t cp = 1; cp <= 0x10FFFF; cp++) {
    if(cp >= 0xD800 && cp <= 0xDFFF)
      continue;
    unsigned char in[5];
    char once[5], twice[5];
    size_t n = utf8_encode(cp, in);
    in[n] = 0;
    assert_true(utf8_valid((const char *)in, n));
    assert_int_equal(utf8_fold((const char *)in, once, sizeof(once)), 0);
    assert_true(strlen(once) <= n);
    assert_true(utf8_valid(once, strlen(once)));
    assert_int_equal(utf8_fold(once, twice, sizeof(twice)), 0);
    assert_string_equal(once, twice);
    if(cp < 0x80)
      assert_int_equal((unsigned char)once[0], (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_name_clean_ok),      cmocka_unit_test(test_name_clean_lengths),
    cmocka_unit_test(test_name_clean_rejects), cmocka_unit_test(test_name_clean_buffers),
    cmocka_unit_test(test_name_clean_bidi),    cmocka_unit_test(test_name_clean_nfc),
    cmocka_unit_test(test_name_clean_nfc_lengths), cmocka_unit_test(test_utf8_nfc),
    cmocka_unit_test(test_utf8_valid),         cmocka_unit_test(test_utf8_fold),
    cmocka_unit_test(test_utf8_fold_errors),   cmocka_unit_test(test_utf8_fold_all_code_points),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
