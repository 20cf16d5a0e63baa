/* dav_path: request paths to drive items, and items back to hrefs. Path
 * segments arrive percent-decoded; each is normalised to NFC (macOS sends
 * NFD) before it is looked up, as names are stored in NFC. */
#include <stdio.h>
#include <string.h>
#include "dav/dav_priv.h"
#include "drive/files.h"
#include "drive/folders.h"
#include "util/names.h"

const char *dav_parent(const struct dav_item *it)
{
  return it->parent_id[0] ? it->parent_id : NULL;
}

int dav_resolve(const char *user_id, const char *path, struct dav_item *out)
{
  size_t plen = strlen(DAV_PREFIX);
  memset(out, 0, sizeof(*out));
  if(strncmp(path, DAV_PREFIX, plen) != 0 || (path[plen] && path[plen] != '/'))
    return DRIVE_INVALID;
  const char *p = path + plen;
  char seg[UTF8_NFC_MAX + 1], name[DAVFS_NAME_MAX];
  size_t depth = 0, olen = 0;
  out->kind = DAV_ROOT;
  snprintf(out->path, sizeof(out->path), "/");
  while(*p) {
    while(*p == '/')
      p++;
    if(!*p)
      break;
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if(n > UTF8_NFC_MAX || ++depth > DAV_DEPTH_MAX)
      return DRIVE_INVALID;
    memcpy(seg, p, n);
    seg[n] = 0;
    p += n;
    if(utf8_nfc(seg, n, name, sizeof(name)) < 0 || !strcmp(name, ".") || !strcmp(name, ".."))
      return DRIVE_INVALID;
    /* The item so far must be a folder to hold a next segment. */
    if(out->kind == DAV_FILE || out->kind == DAV_NONE)
      return DRIVE_NOT_FOUND;
    if(out->kind == DAV_FOLDER)
      snprintf(out->parent_id, sizeof(out->parent_id), "%s", out->fo.id);
    else
      out->parent_id[0] = 0;
    snprintf(out->name, sizeof(out->name), "%s", name);
    int w = snprintf(out->path + olen, sizeof(out->path) - olen, "/%s", name);
    if(w < 0 || (size_t)w >= sizeof(out->path) - olen)
      return DRIVE_INVALID;
    olen += (size_t)w;
    const char *parent = dav_parent(out);
    int rc = davfs_folder(user_id, parent, name, &out->fo);
    if(rc == DRIVE_OK) {
      out->kind = DAV_FOLDER;
      continue;
    }
    if(rc != DRIVE_NOT_FOUND)
      return rc;
    rc = davfs_file(user_id, parent, name, &out->fi);
    if(rc == DRIVE_OK)
      out->kind = DAV_FILE;
    else if(rc == DRIVE_NOT_FOUND)
      out->kind = DAV_NONE;
    else
      return rc;
  }
  return DRIVE_OK;
}

/* Bytes an href keeps as they are (RFC 3986 unreserved, and '/'). */
static bool href_plain(unsigned char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/';
}

int dav_href(buf_t *b, const char *path, bool collection)
{
  static const char hex[] = "0123456789ABCDEF";
  int rc = buf_append(b, DAV_PREFIX, sizeof(DAV_PREFIX) - 1);
  const unsigned char *s = (const unsigned char *)path;
  while(rc == BUF_OK && *s) {
    const unsigned char *run = s;
    while(*s && href_plain(*s))
      s++;
    if(s > run)
      rc = buf_append(b, run, (size_t)(s - run));
    if(rc == BUF_OK && *s) {
      char esc[3] = {'%', hex[*s >> 4], hex[*s & 15]};
      rc = buf_append(b, esc, 3);
      s++;
    }
  }
  size_t n = b->len;
  if(rc == BUF_OK && collection && (n == 0 || b->data[n - 1] != '/'))
    rc = buf_append(b, "/", 1);
  return rc;
}

int dav_xml_text(buf_t *b, const char *s)
{
  int rc = BUF_OK;
  while(rc == BUF_OK && *s) {
    size_t n = strcspn(s, "<>&\"");   /* the plain run at once */
    if(n)
      rc = buf_append(b, s, n);
    s += n;
    if(rc != BUF_OK || !*s)
      break;
    switch(*s++) {
    case '<': rc = buf_append(b, "&lt;", 4); break;
    case '>': rc = buf_append(b, "&gt;", 4); break;
    case '&': rc = buf_append(b, "&amp;", 5); break;
    default: rc = buf_append(b, "&quot;", 6); break;
    }
  }
  return rc;
}

int dav_bin_item(const char *user_id, const struct dav_item *it)
{
  if(it->kind == DAV_FOLDER)
    return folder_bin(user_id, it->fo.id);
  if(it->kind == DAV_FILE)
    return file_bin(user_id, it->fi.id);
  return DRIVE_OK;
}

void dav_etag(const struct file_rec *f, char out[DAV_ETAG_HEX + 3])
{
  snprintf(out, DAV_ETAG_HEX + 3, "\"%.*s\"", DAV_ETAG_HEX, f->sha256);
}
