/* Unit tests for drive/mime: the text shortcut (libmagic's built-in checks
 * only, for text named as text) gives the answer every rule gives, over a
 * corpus of text and binary heads under text and other names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive/mime.c"

static const char *names[] = {
  "f.txt", "f.md", "f.csv", "f.c", "f.h", "f.py", "f.sh", "f.js", "f.mjs", "f.css", "f.html",
  "f.htm", "f.json", "f.xml", "f.svg", "f.bin", "f", "f.png", "f.pdf", "f.docx", "F.TXT",
};

static int mismatches, compared;

/* Both answers for every name; counts (and prints) where they differ. */
static void compare(const char *what, const char *head, size_t n)
{
  for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char fast[128], full[128];
    mime_sniff(head, n, names[i], fast, sizeof(fast));
    mime_sniff_full(head, n, names[i], full, sizeof(full));
    compared++;
    if(strcmp(fast, full)) {
      mismatches++;
      printf("# %s as %s: shortcut %s, every rule %s\n", what, names[i], fast, full);
    }
  }
}

static const char *texts[] = {
  "plain words\n",
  "Hello world, this is a plain text file.\nIt has two lines.\n",
  "# Title\n\nSome *markdown* with a [link](http://example.com).\n\n- item\n- item\n",
  "a,b,c\n1,2,3\n4,5,6\n7,8,9\n",
  "name;size;date\nx;1;2020-01-01\ny;2;2020-01-02\n",
  "#include <stdio.h>\n\nint main(void)\n{\n  printf(\"hi\\n\");\n  return 0;\n}\n",
  "/* a header */\n#ifndef X_H\n#define X_H\nstruct x { int a; };\n#endif\n",
  "import os\nimport sys\n\ndef main():\n    print(sys.argv)\n\nif __name__ == '__main__':\n    main()\n",
  "#!/bin/sh\nset -e\necho hello\n",
  "#!/usr/bin/env node\nconsole.log('hi');\n",
  "#!/usr/bin/env python3\nprint('hi')\n",
  "function f(a) {\n  return a + 1;\n}\nconst x = f(2);\nexport default x;\n",
  "body { margin: 0; }\n.header { color: #333; font-size: 12px; }\n",
  "<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>x</p></body></html>\n",
  "<?xml version=\"1.0\"?>\n<root><a>1</a></root>\n",
  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>\n",
  "{\"a\": 1, \"b\": [true, false, null], \"c\": \"x\"}\n",
  "[1, 2, 3]\n",
  "{\\rtf1\\ansi Hello}\n",
  "%!PS-Adobe-3.0\n%%Title: x\nshowpage\n",
  "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBF\n-----END PGP PUBLIC KEY BLOCK-----\n",
  "[Desktop Entry]\nName=x\nExec=x\nType=Application\n",
  "[section]\nkey=value\n",
  "BEGIN:VCARD\nVERSION:3.0\nFN:X\nEND:VCARD\n",
  "From someone@example.com Mon Jan 1 00:00:00 2024\nSubject: hi\n\nbody\n",
  "\xef\xbb\xbfUTF-8 text with a byte order mark, caf\xc3\xa9\n",
  "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln, \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n",
  "latin-1 caf\xe9 na\xefve\n",
  "   \n\t\n",
  "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
  "SELECT id, name FROM files WHERE owner_id = 1;\n",
  "key: value\nlist:\n  - a\n  - b\n",
  "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }\n",
  "<?php echo 'hi'; ?>\n",
  "%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
  "MZ this is not an exe but text\n",
  "PK text that starts like a zip\n",
};

static void test_text_corpus(void **state)
{
  (void)state;
  for(size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
    compare(texts[i], texts[i], strlen(texts[i]));
  assert_int_equal(mismatches, 0);
}

static void test_binary_corpus(void **state)
{
  (void)state;
  static const char png[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
                            "\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
  static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9\xc9\x07\x00";
  static const char jpg[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00";
  compare("png", png, sizeof(png) - 1);
  compare("gzip", gz, sizeof(gz) - 1);
  compare("jpeg", jpg, sizeof(jpg) - 1);
  char buf[MIME_HEAD_MAX];
  srand(7);
  for(int k = 0; k < 4; k++) {
    for(size_t i = 0; i < sizeof(buf); i++)
      buf[i] = (char)(rand() & 0xff);
    compare("random bytes", buf, sizeof(buf));
  }
  /* Text with a NUL in it is not text. */
  memset(buf, 'a', 64);
  buf[10] = 0;
  compare("text with a NUL", buf, 64);
  compare("empty", "", 0);
  assert_int_equal(mismatches, 0);
}

/* The machine's own text files, if it has them: licences, headers,
 * Python modules, shell scripts (at most 150). */
static void test_system_files(void **state)
{
  (void)state;
  static const char *dirs[] = {"/usr/share/doc/libc6", "/usr/include", "/usr/include/linux",
                               "/usr/lib/python3.11", "/usr/lib/python3.11/json", "/usr/bin",
                               "/usr/share/common-licenses", "/etc"};
  int files = 0;
  for(size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]) && files < 150; d++) {
    DIR *dir = opendir(dirs[d]);
    struct dirent *e;
    while(dir && files < 150 && (e = readdir(dir)) != NULL) {
      char path[1024], head[MIME_HEAD_MAX];
      if(e->d_name[0] == '.')
        continue;
      snprintf(path, sizeof(path), "%s/%s", dirs[d], e->d_name);
      FILE *f = fopen(path, "rb");
      if(!f)
        continue;
      size_t n = fread(head, 1, sizeof(head), f);
      fclose(f);
      if(n == 0)
        continue;
      compare(path, head, n);
      files++;
    }
    if(dir)
      closedir(dir);
  }
  printf("# %d system files, %d answers compared\n", files, compared);
  assert_int_equal(mismatches, 0);
}

/* Wider: every file under a few trees (at most 2000), the raw types. Where
 * the shortcut applies, every rule must say text/ (the extension then
 * wins) or what the built-in checks said. */
static int walked, shortcut_taken, raw_mismatches;

static int walk_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)ftw;
  if(flag != FTW_F || !S_ISREG(st->st_mode) || st->st_size == 0)
    return 0;
  char head[MIME_HEAD_MAX], fast[128], full[128];
  FILE *f = fopen(path, "rb");
  if(!f)
    return 0;
  size_t n = fread(head, 1, sizeof(head), f);
  fclose(f);
  walked++;
  if(mime_text_shortcut(head, n, fast, sizeof(fast))) {
    shortcut_taken++;
    if(!mime_magic_type(&magic_full, head, n, full, sizeof(full)))
      snprintf(full, sizeof(full), "(none)");
    if(strncmp(full, "text/", 5) && strcmp(full, fast)) {
      raw_mismatches++;
      printf("# %s: built-in %s, every rule %s\n", path, fast, full);
    }
  }
  return walked >= 2000;
}

static void test_system_trees(void **state)
{
  (void)state;
  static const char *roots[] = {"/usr/share/doc", "/usr/include", "/usr/lib/python3",
                                "/usr/share/perl5", "/etc", "/usr/share/javascript"};
  for(size_t i = 0; i < sizeof(roots) / sizeof(roots[0]) && walked < 2000; i++)
    nftw(roots[i], walk_file, 16, FTW_PHYS);
  printf("# %d files, shortcut taken for %d\n", walked, shortcut_taken);
  assert_int_equal(raw_mismatches, 0);
}

/* Prose named as text takes the shortcut (its cost against every rule is
 * bench/dav_ab.sh PUT_KIND=text's to measure, not a unit test's). */
static void test_prose_takes_the_shortcut(void **state)
{
  (void)state;
  char head[MIME_HEAD_MAX], out[128];
  for(size_t i = 0; i < sizeof(head); i++)
    head[i] = "the quick brown fox jumps over the lazy dog\n"[i % 44];
  assert_true(mime_text_shortcut(head, sizeof(head), out, sizeof(out)));
  mime_sniff(head, sizeof(head), "a.txt", out, sizeof(out));
  assert_string_equal(out, "text/plain");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_text_corpus),
    cmocka_unit_test(test_binary_corpus),
    cmocka_unit_test(test_system_files),
    cmocka_unit_test(test_system_trees),
    cmocka_unit_test(test_prose_takes_the_shortcut),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  mime_shutdown();
  return rc;
}
