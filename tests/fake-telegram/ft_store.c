/* ft_store: stored files and messages. */
#include "ft_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_time.h"

#define LINE_MAX_BYTES 4096

/* The messages of one chat, in message_id order (ids only grow), so a
 * message is found by binary search. */
struct ft_store_chat {
  int64_t id;
  int64_t next_message_id;
  size_t *msg;   /* indexes into store->msgs */
  size_t n, cap;
};

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
  size_t ncap;
  void *na;

  if(n < *cap)
    return 0;
  ncap = *cap ? *cap * 2 : 64;
  na = realloc(*arr, ncap * elem);
  if(!na)
    return -1;
  *arr = na;
  *cap = ncap;
  return 0;
}

static struct ft_store_chat *chat_get(struct ft_store *s, int64_t id, int create)
{
  struct ft_store_chat *c;
  size_t i;

  for(i = 0; i < s->nchats; i++)
    if(s->chats[i].id == id)
      return &s->chats[i];
  if(!create || grow((void **)&s->chats, &s->cap_chats, s->nchats, sizeof(*c)))
    return NULL;
  c = &s->chats[s->nchats++];
  memset(c, 0, sizeof(*c));
  c->id = id;
  c->next_message_id = 1;
  return c;
}

/* Copies src into a fixed field, replacing bytes that would make invalid
 * UTF-8 (jansson refuses those) with '?'. */
static void copy_text(char *dst, size_t dstsz, const char *src)
{
  size_t i;
  json_t *probe;

  snprintf(dst, dstsz, "%s", src ? src : "");
  probe = json_string(dst);
  if(probe) {
    json_decref(probe);
    return;
  }
  for(i = 0; dst[i]; i++)
    if((unsigned char)dst[i] >= 0x80)
      dst[i] = '?';
}

static int file_append(struct ft_store *s, const struct ft_file_info *f)
{
  if(grow((void **)&s->files, &s->cap_files, s->nfiles, sizeof(*f)))
    return -1;
  s->files[s->nfiles++] = *f;
  return 0;
}

static int msg_append(struct ft_store *s, const struct ft_msg_info *m)
{
  struct ft_store_chat *c = chat_get(s, m->chat_id, 1);

  if(!c || grow((void **)&s->msgs, &s->cap_msgs, s->nmsgs, sizeof(*m)) ||
     grow((void **)&c->msg, &c->cap, c->n, sizeof(size_t)))
    return -1;
  c->msg[c->n++] = s->nmsgs;
  s->msgs[s->nmsgs++] = *m;
  if(m->message_id >= c->next_message_id)
    c->next_message_id = m->message_id + 1;
  return 0;
}

static struct ft_msg_info *msg_find(struct ft_store *s, int64_t chat_id, int64_t message_id)
{
  struct ft_store_chat *c = chat_get(s, chat_id, 0);
  size_t lo = 0, hi;

  if(!c)
    return NULL;
  hi = c->n;
  while(lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    struct ft_msg_info *m = &s->msgs[c->msg[mid]];
    if(m->message_id == message_id)
      return m;
    if(m->message_id < message_id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* Writes one JSON line to the index (under the lock); losing the index only
 * costs restart-survival, so errors are reported but not fatal. */
static void index_write(struct ft_store *s, json_t *line)
{
  char *text = json_dumps(line, JSON_COMPACT);

  json_decref(line);
  if(!text || !s->index)
    goto out;
  if(fprintf(s->index, "%s\n", text) < 0 || fflush(s->index))
    fprintf(stderr, "fake-telegram: index write failed: %s\n", strerror(errno));
out:
  free(text);
}

/* Applies one index line at start; malformed lines (a torn last write) are skipped. */
static void replay_line(struct ft_store *s, const char *text)
{
  json_t *o = json_loads(text, 0, NULL);
  const char *t, *sha = NULL, *name = NULL, *mime = NULL;
  json_int_t no = 0, bot = 0, size = 0, chat = 0, id = 0, date = 0, file = 0;

  if(!o || json_unpack(o, "{s:s}", "t", &t))
    goto out;
  if(!strcmp(t, "file")) {
    struct ft_file_info f;
    if(json_unpack(o, "{s:I, s:I, s:I, s:s, s:s, s:s}", "no", &no, "bot", &bot, "size", &size,
                   "sha256", &sha, "name", &name, "mime", &mime) ||
       no != (json_int_t)s->nfiles + 1 || size < 0)
      goto out;
    memset(&f, 0, sizeof(f));
    f.no = (uint64_t)no;
    f.bot_id = bot;
    f.size = (uint64_t)size;
    copy_text(f.sha256, sizeof(f.sha256), sha);
    copy_text(f.name, sizeof(f.name), name);
    copy_text(f.mime, sizeof(f.mime), mime);
    file_append(s, &f);
  }
  else if(!strcmp(t, "msg")) {
    struct ft_msg_info m;
    struct ft_store_chat *c;
    if(json_unpack(o, "{s:I, s:I, s:I, s:I, s:I}", "chat", &chat, "id", &id, "bot", &bot,
                   "file", &file, "date", &date) ||
       file < 1 || (uint64_t)file > s->nfiles)
      goto out;
    c = chat_get(s, chat, 1);
    if(!c || id < c->next_message_id)
      goto out; /* ids must keep growing for the binary search */
    memset(&m, 0, sizeof(m));
    m.chat_id = chat;
    m.message_id = id;
    m.bot_id = bot;
    m.file_no = (uint64_t)file;
    m.date = date;
    msg_append(s, &m);
  }
  else if(!strcmp(t, "del")) {
    struct ft_msg_info *m;
    if(json_unpack(o, "{s:I, s:I}", "chat", &chat, "id", &id))
      goto out;
    m = msg_find(s, chat, id);
    if(m)
      m->deleted = 1;
  }
out:
  json_decref(o);
}

static int load_secret(const char *dir, unsigned char secret[FT_IDS_SECRET_LEN])
{
  char path[PATH_MAX + 16];
  int fd, rc = -1;
  ssize_t n;

  snprintf(path, sizeof(path), "%s/secret", dir);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if(fd >= 0) {
    n = read(fd, secret, FT_IDS_SECRET_LEN);
    rc = n == FT_IDS_SECRET_LEN ? 0 : -1;
    goto out;
  }
  randombytes_buf(secret, FT_IDS_SECRET_LEN);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if(fd < 0)
    goto out;
  n = write(fd, secret, FT_IDS_SECRET_LEN);
  rc = n == FT_IDS_SECRET_LEN ? 0 : -1;
out:
  if(fd >= 0)
    close(fd);
  if(rc)
    fprintf(stderr, "fake-telegram: cannot read or create %s\n", path);
  return rc;
}

/* Removes uploads a previous run left half-written. */
static void clean_tmp(const char *tmpdir)
{
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  char path[PATH_MAX + 300];

  if(!d)
    return;
  while((e = readdir(d))) {
    if(e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
    unlink(path);
  }
  closedir(d);
}

int ft_store_open(struct ft_store *s, const char *dir, unsigned char secret[FT_IDS_SECRET_LEN])
{
  char path[PATH_MAX + 16];
  char line[LINE_MAX_BYTES];
  FILE *f;

  memset(s, 0, sizeof(*s));
  pthread_mutex_init(&s->lock, NULL);
  snprintf(s->dir, sizeof(s->dir), "%s", dir);
  snprintf(path, sizeof(path), "%s/files", dir);
  if(mkdir(path, 0700) && errno != EEXIST)
    goto fail;
  snprintf(path, sizeof(path), "%s/tmp", dir);
  if(mkdir(path, 0700) && errno != EEXIST)
    goto fail;
  clean_tmp(path);
  if(load_secret(dir, secret))
    return -1;
  snprintf(path, sizeof(path), "%s/index.jsonl", dir);
  f = fopen(path, "r");
  if(f) {
    while(fgets(line, sizeof(line), f))
      replay_line(s, line);
    fclose(f);
  }
  s->index = fopen(path, "a");
  if(!s->index)
    goto fail;
  return 0;
fail:
  fprintf(stderr, "fake-telegram: cannot prepare %s: %s\n", path, strerror(errno));
  return -1;
}

void ft_store_close(struct ft_store *s)
{
  size_t i;

  if(s->index)
    fclose(s->index);
  for(i = 0; i < s->nchats; i++)
    free(s->chats[i].msg);
  free(s->chats);
  free(s->msgs);
  free(s->files);
  pthread_mutex_destroy(&s->lock);
  memset(s, 0, sizeof(*s));
}

int ft_store_tmp_open(struct ft_store *s, char *path, size_t pathsz)
{
  if((size_t)snprintf(path, pathsz, "%s/tmp/upload-XXXXXX", s->dir) >= pathsz)
    return -1;
  return mkostemp(path, O_CLOEXEC);
}

void ft_store_data_path(const struct ft_store *s, uint64_t no, char *out, size_t outsz)
{
  snprintf(out, outsz, "%s/files/%llu.bin", s->dir, (unsigned long long)no);
}

int ft_store_add_file(struct ft_store *s, int64_t bot_id, const char *tmp_path, uint64_t size,
                      const char *sha256, const char *name, const char *mime, uint64_t *no)
{
  struct ft_file_info f;
  char path[PATH_MAX + 32];
  int rc = -1;

  memset(&f, 0, sizeof(f));
  f.bot_id = bot_id;
  f.size = size;
  copy_text(f.sha256, sizeof(f.sha256), sha256);
  copy_text(f.name, sizeof(f.name), name);
  copy_text(f.mime, sizeof(f.mime), mime);
  pthread_mutex_lock(&s->lock);
  f.no = s->nfiles + 1;
  ft_store_data_path(s, f.no, path, sizeof(path));
  if(rename(tmp_path, path))
    goto out;
  if(file_append(s, &f)) {
    unlink(path);
    goto out;
  }
  index_write(s, json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:s}", "t", "file",
                           "no", (json_int_t)f.no, "bot", (json_int_t)bot_id,
                           "size", (json_int_t)size, "sha256", f.sha256, "name", f.name,
                           "mime", f.mime));
  *no = f.no;
  rc = 0;
out:
  pthread_mutex_unlock(&s->lock);
  return rc;
}

int ft_store_file(struct ft_store *s, uint64_t no, struct ft_file_info *out)
{
  int rc = -1;

  pthread_mutex_lock(&s->lock);
  if(no >= 1 && no <= s->nfiles) {
    *out = s->files[no - 1];
    rc = 0;
  }
  pthread_mutex_unlock(&s->lock);
  return rc;
}

int ft_store_add_message(struct ft_store *s, int64_t chat_id, int64_t bot_id, uint64_t file_no,
                         struct ft_msg_info *out)
{
  struct ft_store_chat *c;
  struct ft_msg_info m;
  int rc = -1;

  pthread_mutex_lock(&s->lock);
  c = chat_get(s, chat_id, 1);
  if(!c)
    goto out;
  memset(&m, 0, sizeof(m));
  m.chat_id = chat_id;
  m.message_id = c->next_message_id;
  m.bot_id = bot_id;
  m.file_no = file_no;
  m.date = ft_time_unix();
  if(msg_append(s, &m))
    goto out;
  index_write(s, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "t", "msg", "chat",
                           (json_int_t)chat_id, "id", (json_int_t)m.message_id, "bot",
                           (json_int_t)bot_id, "file", (json_int_t)file_no, "date",
                           (json_int_t)m.date));
  *out = m;
  rc = 0;
out:
  pthread_mutex_unlock(&s->lock);
  return rc;
}

int ft_store_delete_message(struct ft_store *s, int64_t chat_id, int64_t message_id)
{
  struct ft_msg_info *m;
  int rc = -1;

  pthread_mutex_lock(&s->lock);
  m = msg_find(s, chat_id, message_id);
  if(!m || m->deleted)
    goto out;
  m->deleted = 1;
  index_write(s, json_pack("{s:s, s:I, s:I}", "t", "del", "chat", (json_int_t)chat_id, "id",
                           (json_int_t)message_id));
  rc = 0;
out:
  pthread_mutex_unlock(&s->lock);
  return rc;
}

json_t *ft_store_messages_json(struct ft_store *s)
{
  json_t *arr = json_array();
  size_t i;

  pthread_mutex_lock(&s->lock);
  for(i = 0; i < s->nmsgs; i++) {
    const struct ft_msg_info *m = &s->msgs[i];
    const struct ft_file_info *f = &s->files[m->file_no - 1];
    char fid[FT_FILE_ID_MAX], fuid[FT_FILE_UNIQUE_ID_MAX];

    ft_file_id_encode(m->bot_id, m->file_no, fid);
    ft_file_unique_id_encode(m->file_no, fuid);
    json_array_append_new(
      arr, json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:b}",
                     "chat_id", (json_int_t)m->chat_id, "message_id", (json_int_t)m->message_id,
                     "bot_id", (json_int_t)m->bot_id, "date", (json_int_t)m->date,
                     "file_id", fid, "file_unique_id", fuid, "file_name", f->name,
                     "mime_type", f->mime, "size", (json_int_t)f->size, "sha256", f->sha256,
                     "deleted", m->deleted));
  }
  pthread_mutex_unlock(&s->lock);
  return arr;
}
