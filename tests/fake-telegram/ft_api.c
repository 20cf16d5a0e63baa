/* ft_api: Bot API methods. */
#include "ft_api.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ft_http.h"
#include "ft_ids.h"
#include "ft_num.h"
#include "ft_time.h"

#define MAX_DELETE_IDS 100

static enum MHD_Result api_error(struct ft_req *r, unsigned code, const char *desc)
{
  if(code != 429)
    ft_stats_add(&r->app->stats, FT_STAT_ERRORS, 1);
  return ft_http_error(r->conn, code, desc);
}

enum MHD_Result ft_api_fault_answer(struct ft_req *r, const struct ft_fault_plan *plan)
{
  if(plan->fail_html)
    return ft_http_nginx_page(r->conn, (unsigned)plan->fail_status);
  return ft_http_error(r->conn, (unsigned)plan->fail_status,
                       ft_http_reason((unsigned)plan->fail_status));
}

static enum MHD_Result too_large(struct ft_req *r)
{
  ft_stats_add(&r->app->stats, FT_STAT_ERRORS, 1);
  if(r->rt.html_413)
    return ft_http_nginx_page(r->conn, 413);
  return ft_http_error(r->conn, 413, "Request Entity Too Large");
}

/* Reads and checks chat_id: it must name a channel (-100...) the bot is in.
 * On failure the answer is queued into *res and -1 returned. */
static int get_chat(struct ft_req *r, int64_t *chat, enum MHD_Result *res)
{
  const char *s = ft_params_get(&r->params, "chat_id");
  char canon[32];

  if(!s || !*s) {
    *res = api_error(r, 400, "Bad Request: chat_id is empty");
    return -1;
  }
  if(ft_num_i64(s, chat)) {
    *res = api_error(r, 400, "Bad Request: chat not found");
    return -1;
  }
  snprintf(canon, sizeof(canon), "%lld", (long long)*chat);
  if(strncmp(canon, "-100", 4) || !canon[4]) {
    *res = api_error(r, 400, "Bad Request: chat not found");
    return -1;
  }
  if(ft_runtime_chat_denied(&r->rt, *chat)) {
    *res = api_error(r, 403, "Forbidden: bot is not a member of the channel chat");
    return -1;
  }
  return 0;
}

static json_t *chat_json(int64_t chat)
{
  char title[48];
  snprintf(title, sizeof(title), "Fake channel %lld", (long long)chat);
  return json_pack("{s:I, s:s, s:s}", "id", (json_int_t)chat, "title", title, "type", "channel");
}

/* The cloud-mode file_path: documents/file_<no>[.ext] like the real service. */
static void cloud_path(const struct ft_file_info *f, char *out, size_t outsz)
{
  const char *dot = strrchr(f->name, '.');
  char ext[12] = "";
  size_t i, n = 0;

  if(dot && dot[1] && strlen(dot + 1) < sizeof(ext)) {
    for(i = 1; dot[i] && isalnum((unsigned char)dot[i]); i++)
      ext[n++] = (char)tolower((unsigned char)dot[i]);
    ext[n] = '\0';
    if(dot[i])
      n = 0; /* odd characters: no extension */
  }
  snprintf(out, outsz, "documents/file_%llu%s%s", (unsigned long long)f->no, n ? "." : "",
           n ? ext : "");
}

static enum MHD_Result get_me(struct ft_req *r)
{
  char name[48], user[48];

  snprintf(name, sizeof(name), "Fake Bot %lld", (long long)r->bot_id);
  snprintf(user, sizeof(user), "fake_%lld_bot", (long long)r->bot_id);
  return ft_http_ok(r->conn, json_pack("{s:I, s:b, s:s, s:s, s:b, s:b, s:b}", "id",
                                       (json_int_t)r->bot_id, "is_bot", 1, "first_name", name,
                                       "username", user, "can_join_groups", 1,
                                       "can_read_all_group_messages", 0,
                                       "supports_inline_queries", 0));
}

static enum MHD_Result get_chat_method(struct ft_req *r)
{
  enum MHD_Result res;
  int64_t chat;

  if(get_chat(r, &chat, &res))
    return res;
  return ft_http_ok(r->conn, chat_json(chat));
}

static json_t *message_json(const struct ft_msg_info *m, const struct ft_file_info *f)
{
  char fid[FT_FILE_ID_MAX], fuid[FT_FILE_UNIQUE_ID_MAX];

  ft_file_id_encode(m->bot_id, f->no, fid);
  ft_file_unique_id_encode(f->no, fuid);
  return json_pack("{s:I, s:o, s:o, s:I, s:{s:s, s:s, s:s, s:s, s:I}}",
                   "message_id", (json_int_t)m->message_id,
                   "sender_chat", chat_json(m->chat_id), "chat", chat_json(m->chat_id),
                   "date", (json_int_t)m->date, "document",
                   "file_name", f->name, "mime_type", f->mime, "file_id", fid,
                   "file_unique_id", fuid, "file_size", (json_int_t)f->size);
}

/* Finds the uploaded part `document` refers to: attach://<name>, or a file
 * part named "document". NULL when the document is not an upload. */
static struct ft_upload *document_upload(struct ft_req *r, const char *doc)
{
  if(doc && !strncmp(doc, "attach://", 9))
    return ft_req_upload(r, doc + 9);
  return ft_req_upload(r, "document");
}

static enum MHD_Result send_document(struct ft_req *r)
{
  struct ft_app *app = r->app;
  const char *doc = ft_params_get(&r->params, "document");
  struct ft_upload *up;
  struct ft_file_info f;
  struct ft_msg_info m;
  enum MHD_Result res;
  int64_t chat, owner;
  uint64_t no;
  int retry;

  memset(&f, 0, sizeof(f));
  if(get_chat(r, &chat, &res))
    return res;
  up = document_upload(r, doc);
  if(up) {
    if(!up->size)
      return api_error(r, 400, "Bad Request: file must be non-empty");
  }
  else if(doc && *doc && strncmp(doc, "attach://", 9)) {
    /* a file_id: re-send a file this bot already has */
    if(ft_file_id_decode(doc, &owner, &no) || owner != r->bot_id || ft_store_file(&app->store, no, &f))
      return api_error(r, 400, "Bad Request: wrong file identifier/HTTP URL specified");
  }
  else
    return api_error(r, 400, "Bad Request: there is no document in the request");

  if(r->rt.pace) {
    int lim = ft_pace_take(&app->pace, chat, r->rt.pace_per_sec, r->rt.pace_burst,
                           r->rt.pace_per_min, ft_time_mono(), &retry);
    if(lim < 0)
      return api_error(r, 500, "Internal Server Error");
    if(lim > 0) {
      ft_stats_add(&app->stats, FT_STAT_RATE_LIMITED, 1);
      return ft_http_retry_after(r->conn, retry);
    }
  }

  if(up) {
    const char *name = up->file_name[0] ? up->file_name : "document";
    const char *mime = up->mime[0] ? up->mime : "application/octet-stream";
    if(ft_store_add_file(&app->store, r->bot_id, up->tmp_path, up->size, up->sha256, name, mime,
                         &no) ||
       ft_store_file(&app->store, no, &f))
      return api_error(r, 500, "Internal Server Error");
    up->tmp_path[0] = '\0'; /* the store owns the bytes now */
    ft_stats_add(&app->stats, FT_STAT_BYTES_IN, f.size);
  }
  if(ft_store_add_message(&app->store, chat, r->bot_id, f.no, &m))
    return api_error(r, 500, "Internal Server Error");
  return ft_http_ok(r->conn, message_json(&m, &f));
}

static enum MHD_Result get_file(struct ft_req *r)
{
  const char *id = ft_params_get(&r->params, "file_id");
  char fuid[FT_FILE_UNIQUE_ID_MAX];
  char path[PATH_MAX + 32];
  struct ft_file_info f;
  int64_t owner;
  uint64_t no;

  if(!id || ft_file_id_decode(id, &owner, &no) || owner != r->bot_id ||
     ft_store_file(&r->app->store, no, &f))
    return api_error(r, 400, "Bad Request: invalid file_id");
  if(!r->app->cfg.local && f.size > r->rt.download_limit)
    return api_error(r, 400, "Bad Request: file is too big");
  if(r->app->cfg.local)
    ft_store_data_path(&r->app->store, f.no, path, sizeof(path));
  else
    cloud_path(&f, path, sizeof(path));
  ft_file_unique_id_encode(f.no, fuid);
  return ft_http_ok(r->conn, json_pack("{s:s, s:s, s:I, s:s}", "file_id", id, "file_unique_id",
                                       fuid, "file_size", (json_int_t)f.size, "file_path", path));
}

static enum MHD_Result delete_message(struct ft_req *r)
{
  const char *s = ft_params_get(&r->params, "message_id");
  enum MHD_Result res;
  int64_t chat, id;

  if(get_chat(r, &chat, &res))
    return res;
  if(!s || ft_num_i64(s, &id) || id <= 0)
    return api_error(r, 400, "Bad Request: message identifier is not specified");
  if(ft_store_delete_message(&r->app->store, chat, id))
    return api_error(r, 400, "Bad Request: message to delete not found");
  return ft_http_ok(r->conn, json_true());
}

static enum MHD_Result delete_messages(struct ft_req *r)
{
  const char *s = ft_params_get(&r->params, "message_ids");
  enum MHD_Result res;
  json_t *ids = NULL, *e;
  int64_t chat;
  size_t i;

  if(get_chat(r, &chat, &res))
    return res;
  if(s)
    ids = json_loads(s, JSON_DECODE_ANY, NULL);
  if(!ids || !json_is_array(ids) || !json_array_size(ids) ||
     json_array_size(ids) > MAX_DELETE_IDS) {
    json_decref(ids);
    return api_error(r, 400, "Bad Request: message identifiers are not specified");
  }
  json_array_foreach(ids, i, e) {
    if(!json_is_integer(e) || json_integer_value(e) <= 0) {
      json_decref(ids);
      return api_error(r, 400, "Bad Request: message identifiers are invalid");
    }
  }
  /* like the real method: messages that are already gone are skipped */
  json_array_foreach(ids, i, e)
    ft_store_delete_message(&r->app->store, chat, json_integer_value(e));
  json_decref(ids);
  return ft_http_ok(r->conn, json_true());
}

struct method {
  const char *name;
  enum MHD_Result (*fn)(struct ft_req *r);
  enum ft_stat stat;
  int faultable;
};

static const struct method methods[] = {
  {"getMe", get_me, FT_STAT_GET_ME, 0},
  {"getChat", get_chat_method, FT_STAT_GET_CHAT, 0},
  {"sendDocument", send_document, FT_STAT_SEND_DOCUMENT, 1},
  {"getFile", get_file, FT_STAT_GET_FILE, 1},
  {"deleteMessage", delete_message, FT_STAT_DELETE_MESSAGE, 1},
  {"deleteMessages", delete_messages, FT_STAT_DELETE_MESSAGES, 1},
};

enum MHD_Result ft_api_serve(struct ft_req *r)
{
  const struct method *m = NULL;
  struct ft_fault_plan plan;
  size_t i;

  ft_stats_add(&r->app->stats, FT_STAT_REQUESTS, 1);
  ft_time_sleep(r->rt.latency_ms / 1000.0);
  /* the front proxy refuses oversized bodies before the bot server sees them */
  if(r->too_large)
    return too_large(r);
  if(!r->token_ok)
    return api_error(r, 401, "Unauthorized");
  for(i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
    if(!strcasecmp(methods[i].name, r->method))
      m = &methods[i];
  if(!m)
    return api_error(r, 404, "Not Found");
  ft_stats_add(&r->app->stats, m->stat, 1);
  if(m->faultable) {
    ft_fault_draw(&r->rt, 0, 0, &plan);
    if(plan.count)
      ft_stats_add(&r->app->stats, FT_STAT_FAULTS, (uint64_t)plan.count);
    if(plan.drop)
      return MHD_NO; /* MHD closes the connection without an answer */
    ft_time_sleep(plan.slow_ms / 1000.0);
    if(plan.fail_status)
      return ft_api_fault_answer(r, &plan);
  }
  if(r->err_code)
    return api_error(r, r->err_code, r->err_desc);
  return m->fn(r);
}
