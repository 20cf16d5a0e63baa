/* tasks: /api/v1/tasks (API §9): the caller's running and recently finished
 * tasks from the registry, cancelling one, and the finished ones from the
 * database. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api/api.h"
#include "api/task_render.h"
#include "drive/task_bus.h"
#include "util/human.h"
#include "util/timefmt.h"

#define TASKS_HISTORY_DEFAULT 50
#define TASKS_HISTORY_MAX 500

json_t *task_render(const struct task_view *v)
{
  char transferred_hr[32], total_hr[32], eta[32], created[32], updated[32];
  double pct = 0;
  if(v->total > 0)
    pct = (double)v->transferred * 100.0 / (double)v->total;
  else if(v->status == TASK_COMPLETED)
    pct = 100;
  pct = pct > 100 ? 100 : round(pct * 100) / 100;
  human_size(v->transferred, transferred_hr);
  human_size(v->total, total_hr);
  human_duration(v->eta_s, eta);   /* "N/A" for -1 */
  time_rfc3339(v->created_at, created);
  time_rfc3339(v->updated_at, updated);
  return json_pack("{s:s,s:s,s:s,s:s,s:f,s:I,s:s,s:I,s:s,s:I,s:o,s:s,s:b,s:s,s:s,s:o,s:o}",
                   "task_id", v->id,
                   "file_name", v->file_name,
                   "status", task_status_name(v->status),
                   "type", v->type,
                   "progress_percent", pct,
                   "transferred", (json_int_t)v->transferred,
                   "transferred_hr", transferred_hr,
                   "total", (json_int_t)v->total,
                   "total_hr", total_hr,
                   "speed_bytes_per_sec", (json_int_t)llround(v->speed),
                   "eta_seconds", v->eta_s >= 0 ? json_integer(v->eta_s) : json_null(),
                   "eta_friendly", eta,
                   "can_cancel", (int)v->can_cancel,
                   "created_at", created,
                   "updated_at", updated,
                   "error", v->error[0] ? json_string(v->error) : json_null(),
                   "file_id", v->file_id[0] ? json_string(v->file_id) : json_null());
}

/* A query value, NULL when absent or empty. */
static const char *tasks_query(const struct http_req *r, const char *key)
{
  const char *v = http_query(r, key);
  return v && *v ? v : NULL;
}

/* Decimal digits only, within [min, max]. */
static int tasks_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
  int64_t v = 0;
  if(!*s)
    return -1;
  for(; *s; s++) {
    if(*s < '0' || *s > '9' || v > (INT64_MAX - (*s - '0')) / 10)
      return -1;
    v = v * 10 + (*s - '0');
  }
  if(v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

/* GET /api/v1/tasks?user_id= : running and recently finished, newest first. */
static int tasks_list_route(struct http_req *r)
{
  struct task_view *v = NULL;
  size_t n = 0;
  const char *who = tasks_query(r, "user_id");
  /* The original served anyone's tasks here; now only one's own. */
  if(who && strcmp(who, api_user_id(r)) != 0 && strcasecmp(who, api_username(r)) != 0)
    return http_reply_error(r, HTTP_FORBIDDEN, "Not allowed to view another user's tasks");
  int rc = tasks_list(api_user_id(r), &v, &n);
  if(!rc)
    rc = task_bus_list_others(api_user_id(r), &v, &n);   /* tasks of other nodes */
  if(rc) {
    free(v);
    return api_reply_error(r, rc, NULL);
  }
  json_t *arr = json_array();
  for(size_t i = 0; arr && i < n; i++)
    if(json_array_append_new(arr, task_render(&v[i])) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  free(v);
  if(!arr)
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  return http_reply_json(r, HTTP_OK, arr);
}

/* A cancel that may reach another node (PostgreSQL): it waits for that
 * node's answer, so it runs on the deferred-work pool, not a poll thread. */
struct tasks_cancel_job {
  char user_id[TASK_USER_MAX];
  char id[ID_LEN + 1];
  int rc;
};

static void tasks_cancel_work(void *arg)
{
  struct tasks_cancel_job *j = arg;
  j->rc = task_bus_cancel(j->user_id, j->id);
}

static int tasks_cancel_reply(struct http_req *r, const char *id, int rc)
{
  if(rc)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND  ? "Task not found"
                                  : rc == DRIVE_CONFLICT ? "Task already finished"
                                                         : NULL);
  return http_reply_json(r, HTTP_OK,
                         json_pack("{s:s,s:s}", "task_id", id, "status", "cancelled"));
}

static void tasks_cancel_done(struct http_req *r, void *arg)
{
  struct tasks_cancel_job *j = arg;
  if(r)
    tasks_cancel_reply(r, j->id, j->rc);
  free(j);
}

/* POST /api/v1/tasks/cancel/{task_id} */
static int tasks_cancel_route(struct http_req *r)
{
  const char *id = http_param(r, "task_id");
  if(!id_valid(id))
    return http_reply_not_found(r, "Task");
  if(!task_bus_on())
    return tasks_cancel_reply(r, id, tasks_cancel(api_user_id(r), id));
  struct tasks_cancel_job *j = calloc(1, sizeof(*j));
  if(!j)
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  snprintf(j->user_id, sizeof(j->user_id), "%s", api_user_id(r));
  snprintf(j->id, sizeof(j->id), "%s", id);
  return http_defer(r, tasks_cancel_work, tasks_cancel_done, j);
}

struct tasks_history_ctx {
  json_t *arr;
  bool oom;
};

static int tasks_history_one(const struct task_view *v, void *arg)
{
  struct tasks_history_ctx *c = arg;
  c->oom = json_array_append_new(c->arr, task_render(v)) != 0;
  return c->oom;
}

/* GET /api/v1/tasks/history?status=&limit=&skip= : finished tasks from the
 * database, the most recently finished first. */
static int tasks_history_route(struct http_req *r)
{
  int64_t limit = TASKS_HISTORY_DEFAULT, skip = 0;
  int status = -1;
  const char *v;
  if((v = tasks_query(r, "status"))) {
    status = task_status_parse(v);
    if(status < 0 || !task_status_final((enum task_status)status))
      return http_reply_error(r, HTTP_BAD_REQUEST,
                              "status must be one of completed, failed, cancelled");
  }
  if((v = tasks_query(r, "limit")) && tasks_int(v, 1, TASKS_HISTORY_MAX, &limit) != 0)
    return http_reply_error(r, HTTP_BAD_REQUEST, "limit must be an integer from 1 to 500");
  if((v = tasks_query(r, "skip")) && tasks_int(v, 0, INT64_MAX, &skip) != 0)
    return http_reply_error(r, HTTP_BAD_REQUEST, "skip must be a non-negative integer");
  struct tasks_history_ctx c = {json_array(), false};
  if(!c.arr)
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  int rc = tasks_history(api_user_id(r), status, limit, skip, tasks_history_one, &c);
  if(rc || c.oom) {
    json_decref(c.arr);
    return api_reply_error(r, rc ? rc : DRIVE_INTERNAL, NULL);
  }
  return http_reply_json(r, HTTP_OK, c.arr);
}

const struct http_route api_task_routes[] = {
  {"GET", "/api/v1/tasks", tasks_list_route, HTTP_AUTH, NULL},
  {"GET", "/api/v1/tasks/history", tasks_history_route, HTTP_AUTH, NULL},
  {"POST", "/api/v1/tasks/cancel/{task_id}", tasks_cancel_route, HTTP_AUTH, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
