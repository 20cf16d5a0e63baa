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

/* One libmagic handle for the process: handles are not thread-safe and each
 * costs megabytes of compiled rules, so sniffing takes a lock instead. */
static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_cookie;
static bool magic_tried;

void mime_shutdown(void)
{
  pthread_mutex_lock(&magic_lock);
  if(magic_cookie)
    magic_close(magic_cookie);
  magic_cookie = NULL;
  magic_tried = false;
  pthread_mutex_unlock(&magic_lock);
}

void mime_sniff(const char *head, size_t n, const char *name, char *out, size_t outsz)
{
  char sniffed[128] = "";
  const char *type = NULL;
  pthread_mutex_lock(&magic_lock);
  if(!magic_tried) {
    magic_tried = true;
    magic_cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if(magic_cookie && magic_load(magic_cookie, NULL) != 0) {
      magic_close(magic_cookie);
      magic_cookie = NULL;
    }
  }
  if(magic_cookie && n > 0) {
    const char *t = magic_buffer(magic_cookie, head, n);
    if(t) {
      snprintf(sniffed, sizeof(sniffed), "%s", t);
      type = sniffed;
    }
  }
  pthread_mutex_unlock(&magic_lock);
  const char *by_ext = mime_by_ext(name);
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
