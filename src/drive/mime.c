/* mime: a file's type from its first bytes (libmagic) and its name. */
#include <magic.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "drive/mime.h"

/* Extension fallback for what content sniffing cannot tell apart. */
static const char *mime_by_ext(const char *name)
{
  static const struct { const char *ext, *type; } table[] = {
    {"txt", "text/plain"}, {"md", "text/markdown"}, {"csv", "text/csv"},
    {"html", "text/html"}, {"htm", "text/html"}, {"css", "text/css"},
    {"js", "text/javascript"}, {"mjs", "text/javascript"}, {"json", "application/json"},
    {"xml", "application/xml"}, {"svg", "image/svg+xml"}, {"png", "image/png"},
    {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"}, {"webp", "image/webp"},
    {"pdf", "application/pdf"}, {"zip", "application/zip"}, {"gz", "application/gzip"},
    {"tar", "application/x-tar"}, {"mp4", "video/mp4"}, {"webm", "video/webm"},
    {"mkv", "video/x-matroska"}, {"mov", "video/quicktime"}, {"mp3", "audio/mpeg"},
    {"wav", "audio/wav"}, {"ogg", "audio/ogg"}, {"flac", "audio/flac"},
    {"doc", "application/msword"}, {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"c", "text/x-c"}, {"h", "text/x-c"}, {"py", "text/x-python"}, {"sh", "application/x-sh"},
  };
  const char *dot = strrchr(name, '.');
  if(!dot || !dot[1])
    return NULL;
  for(size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    if(!strcasecmp(dot + 1, table[i].ext))
      return table[i].type;
  return NULL;
}

/* A libmagic handle, opened on first use. Handles are not thread-safe and
 * each costs megabytes of compiled rules, so there is one of each kind for
 * the process and sniffing takes its lock. */
struct mime_magic {
  pthread_mutex_t lock;
  magic_t cookie;
  bool tried;
  int flags;
};

/* Every rule: what the type of bytes of any kind is decided by. */
static struct mime_magic magic_full = {PTHREAD_MUTEX_INITIALIZER, NULL, false, 0};
/* libmagic's built-in checks only (encoding, JSON, CSV, tar, ELF, CDF): no
 * rule file. It tells text from binary, and JSON and CSV apart, in a
 * fortieth of the time the rules take on text (~3 ms for 8 KiB of prose,
 * most of it in the text rules' searches). */
static struct mime_magic magic_builtin = {PTHREAD_MUTEX_INITIALIZER, NULL, false,
                                          MAGIC_NO_CHECK_SOFT};

static void mime_magic_close(struct mime_magic *m)
{
  pthread_mutex_lock(&m->lock);
  if(m->cookie)
    magic_close(m->cookie);
  m->cookie = NULL;
  m->tried = false;
  pthread_mutex_unlock(&m->lock);
}

void mime_shutdown(void)
{
  mime_magic_close(&magic_full);
  mime_magic_close(&magic_builtin);
}

/* libmagic's type of the n bytes at head into out; false if it has none. */
static bool mime_magic_type(struct mime_magic *m, const char *head, size_t n, char *out,
                            size_t outsz)
{
  bool ok = false;
  pthread_mutex_lock(&m->lock);
  if(!m->tried) {
    m->tried = true;
    m->cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | m->flags);
    if(m->cookie && magic_load(m->cookie, NULL) != 0) {
      magic_close(m->cookie);
      m->cookie = NULL;
    }
  }
  if(m->cookie && n > 0) {
    const char *t = magic_buffer(m->cookie, head, n);
    if(t) {
      snprintf(out, outsz, "%s", t);
      ok = true;
    }
  }
  pthread_mutex_unlock(&m->lock);
  return ok;
}

/* Types named by an extension whose files are plain text: for them the
 * answer is the extension's whenever libmagic calls the content text. */
static bool mime_text_ext(const char *type)
{
  return !strncmp(type, "text/", 5) || !strcmp(type, "application/json") ||
         !strcmp(type, "application/x-sh");
}

/* True if a line of head (n bytes) starts, after blanks, with `word`
 * followed by a byte of `next` (any byte if `next` is ""). */
static bool mime_line_starts(const char *head, size_t n, const char *word, const char *next)
{
  size_t w = strlen(word);
  for(size_t i = 0; i < n;) {
    while(i < n && (head[i] == ' ' || head[i] == '\t'))
      i++;
    if(n - i >= w && !memcmp(head + i, word, w) &&
       (!next[0] || (n - i > w && head[i + w] && strchr(next, head[i + w]))))
      return true;
    const char *nl = memchr(head + i, '\n', n - i);
    if(!nl)
      break;
    i = (size_t)(nl - head) + 1;
  }
  return false;
}

/* Text that libmagic's rules (file 5.44) name with a type outside text/:
 * heads starting with markup ('<': SVG, XML dialects, PHP), '%'
 * (PostScript, PDF), '-' (PGP and key armour), '[' (desktop entries, INI
 * flavours) or '#!' (node scripts); anything its JavaScript rules could
 * match (`(function`, `require(`, `exports`, `typeof`, a line starting
 * with `export ` or `import "`, or `import` and ` from ` on one line),
 * SubRip cues (`-->`), a DXF `HEADER` line. Such heads keep the full
 * rules; tests/unit/test_mime.c compares the two over a corpus. */
static bool mime_head_plain(const char *head, size_t n)
{
  size_t i = 0;
  if(n >= 3 && !memcmp(head, "\xef\xbb\xbf", 3))
    i = 3;   /* UTF-8 byte order mark */
  while(i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
    i++;
  if(i == n)
    return false;
  char c = head[i];
  if(c == '<' || c == '%' || c == '-' || c == '[' || (c == '#' && i + 1 < n && head[i + 1] == '!'))
    return false;
  static const char *const words[] = {"(function", "(async function", "require(", "exports",
                                          "typeof", "-->"};
  for(size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
    if(memmem(head, n, words[k], strlen(words[k])))
      return false;
  if(mime_line_starts(head, n, "export", " ") || mime_line_starts(head, n, "import", "\"'") ||
     mime_line_starts(head, n, "HEADER", ""))
    return false;
  /* `import ... from ` on one line */
  for(const char *p = head, *e = head + n; (p = memmem(p, (size_t)(e - p), "import", 6)); p += 6) {
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    if(memmem(p, (size_t)((nl ? nl : e) - p), " from ", 6))
      return false;
  }
  return true;
}

/* The answer from libmagic's type (NULL: none) and the extension's. */
static void mime_decide(const char *type, const char *by_ext, char *out, size_t outsz)
{
  /* Sniffing can't tell text formats (CSS, JSON, JS) or zip-based office
   * files apart: trust the extension there. */
  if(by_ext && (!type || !strcmp(type, "application/octet-stream") ||
                !strncmp(type, "text/", 5) || !strcmp(type, "application/zip") ||
                !strcmp(type, "application/x-empty")))
    type = by_ext;
  if(!type || !strcmp(type, "application/x-empty"))
    type = by_ext ? by_ext : "application/octet-stream";
  snprintf(out, outsz, "%s", type);
}

void mime_sniff_full(const char *head, size_t n, const char *name, char *out, size_t outsz)
{
  char sniffed[128];
  bool ok = mime_magic_type(&magic_full, head, n, sniffed, sizeof(sniffed));
  mime_decide(ok ? sniffed : NULL, mime_by_ext(name), out, outsz);
}

/* The built-in checks' type when they settle it: the head is text (or
 * JSON) and starts as no rule naming text with a type outside text/ can
 * match (mime_head_plain). */
static bool mime_text_shortcut(const char *head, size_t n, char *out, size_t outsz)
{
  return mime_head_plain(head, n) && mime_magic_type(&magic_builtin, head, n, out, outsz) &&
         (!strncmp(out, "text/", 5) || !strcmp(out, "application/json"));
}

void mime_sniff(const char *head, size_t n, const char *name, char *out, size_t outsz)
{
  char sniffed[128];
  const char *by_ext = mime_by_ext(name);
  /* A text file named as one: every rule would have said text/ too, and
   * the extension wins over that, or JSON as the built-in check does. */
  if(by_ext && mime_text_ext(by_ext) && mime_text_shortcut(head, n, sniffed, sizeof(sniffed))) {
    mime_decide(sniffed, by_ext, out, outsz);
    return;
  }
  mime_sniff_full(head, n, name, out, outsz);
}
