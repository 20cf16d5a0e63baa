/* ws_routes: GET /api/v1/ws/tasks/{user_id}?token= (API §9), the live view of
 * the caller's tasks. The token and the user are checked before the upgrade
 * (401/403, as plain HTTP); then the socket gets a snapshot of the tasks and
 * one message per change that drive/task_events passes on. Progress of a
 * task carries the task id as its queue key, so a client that lags sees the
 * latest progress only; the final event takes the place of a queued
 * progress one of the same task. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include "api/api.h"
#include "api/task_render.h"
#include "drive/task_events.h"
#include "http/websocket.h"
#include "util/log.h"

/* Sockets per user: a browser tab needs one. */
static int ws_per_user = 8;

struct ws_user {            /* open sockets of one user */
  struct ws_user *next;
  char id[TASK_USER_MAX];
  int n;
};

static pthread_mutex_t ws_users_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ws_user *ws_users;

struct ws_client {
  char user_id[TASK_USER_MAX];
  struct http_ws *ws;
  struct task_sub *sub;
};

void api_ws_set_limit(int per_user)
{
  ws_per_user = per_user;
}

/* Takes one of the user's slots; false when the user has them all. */
static bool ws_user_take(const char *id)
{
  bool ok = false;
  pthread_mutex_lock(&ws_users_lock);
  struct ws_user *u = ws_users;
  while(u && strcmp(u->id, id) != 0)
    u = u->next;
  if(!u && (u = calloc(1, sizeof(*u)))) {
    snprintf(u->id, sizeof(u->id), "%s", id);
    u->next = ws_users;
    ws_users = u;
  }
  if(u && u->n < ws_per_user) {
    u->n++;
    ok = true;
  }
  pthread_mutex_unlock(&ws_users_lock);
  return ok;
}

static void ws_user_give(const char *id)
{
  pthread_mutex_lock(&ws_users_lock);
  for(struct ws_user **pp = &ws_users; *pp; pp = &(*pp)->next) {
    struct ws_user *u = *pp;
    if(!strcmp(u->id, id)) {
      if(--u->n <= 0) {
        *pp = u->next;
        free(u);
      }
      break;
    }
  }
  pthread_mutex_unlock(&ws_users_lock);
}

/* Sends `msg` (stolen) to the client; `key` as http_ws_send. */
static void ws_client_send(struct ws_client *c, const char *key, json_t *msg)
{
  char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  json_decref(msg);
  if(!text) {
    log_error("websocket: out of memory rendering an event");
    return;
  }
  http_ws_send(c->ws, key, text, strlen(text));   /* -1: being dropped, nothing to do */
  free(text);
}

/* task_events callback: on the publishing thread; renders and enqueues. */
static void ws_on_task(void *arg, const struct task_view *v)
{
  struct ws_client *c = arg;
  const char *event = task_status_final(v->status) ? task_status_name(v->status) : "progress";
  ws_client_send(c, v->id, json_pack("{s:s,s:o}", "event", event, "task", task_render(v)));
}

/* The snapshot, under task_events' lock: it comes before any change. */
static void ws_snapshot(void *arg)
{
  struct ws_client *c = arg;
  struct task_view *v = NULL;
  size_t n = 0;
  json_t *tasks = json_array();
  if(tasks_list(c->user_id, &v, &n) != DRIVE_OK)
    log_error("websocket: cannot list the tasks of %s", c->user_id);
  for(size_t i = 0; tasks && i < n; i++)
    json_array_append_new(tasks, task_render(&v[i]));
  free(v);
  ws_client_send(c, NULL, json_pack("{s:s,s:o}", "event", "snapshot", "tasks", tasks));
}

static void ws_open(struct http_ws *ws, void *arg)
{
  struct ws_client *c = arg;
  c->ws = ws;
  c->sub = task_events_subscribe(c->user_id, ws_on_task, ws_snapshot, c);
  if(!c->sub)
    log_error("websocket: out of memory subscribing to tasks");
}

static void ws_closed(void *arg)
{
  struct ws_client *c = arg;
  task_events_unsubscribe(c->sub);
  ws_user_give(c->user_id);
  free(c);
}

static const struct http_ws_ops ws_task_ops = {ws_open, ws_closed, "{\"event\":\"ping\"}"};

/* GET /api/v1/ws/tasks/{user_id}?token=<access token> */
static int ws_tasks_route(struct http_req *r)
{
  /* A browser cannot set headers on a WebSocket: the token is in the query.
   * A bearer header works too, for other clients. */
  const char *token = http_query(r, "token");
  const char *h = http_header(r, HTTP_HEADER_AUTHORIZATION);
  if((!token || !*token) && h && !strncasecmp(h, "Bearer ", 7))
    token = h + 7;
  if(!token || !*token) {
    http_add_header(r, HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    return http_reply_error(r, HTTP_UNAUTHORIZED, "Not authenticated");
  }
  if(api_auth_bearer(r, token, &r->auth) != 0) {
    http_add_header(r, HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    return http_reply_error(r, HTTP_UNAUTHORIZED, "Could not validate credentials");
  }
  const char *who = http_param(r, "user_id");
  if(strcmp(who, api_user_id(r)) != 0 && strcasecmp(who, api_username(r)) != 0)
    return http_reply_error(r, HTTP_FORBIDDEN, "Not allowed to view another user's tasks");
  struct ws_client *c = calloc(1, sizeof(*c));
  if(!c)
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  snprintf(c->user_id, sizeof(c->user_id), "%s", api_user_id(r));
  if(!ws_user_take(c->user_id)) {
    free(c);
    http_add_header(r, HTTP_HEADER_RETRY_AFTER, "5");
    return http_reply_error(r, HTTP_TOO_MANY_REQUESTS, "Too many WebSockets for this user");
  }
  if(http_ws_upgrade(r, &ws_task_ops, c) != 0) {
    ws_user_give(c->user_id);
    free(c);
  }
  return 0;
}

const struct http_route api_ws_routes[] = {
  {"GET", "/api/v1/ws/tasks/{user_id}", ws_tasks_route, 0, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
