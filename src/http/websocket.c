/* websocket: the RFC 6455 handshake (section 4.2) on an HTTP request, and
 * the hand-over of the upgraded socket to the event thread (ws_loop.c). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include "http/ws_priv.h"
#include "util/log.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* True when the comma list `h` holds `token` (any case, spaces around). */
static bool ws_has_token(const char *h, const char *token)
{
  size_t tl = strlen(token);
  while(h && *h) {
    while(*h == ' ' || *h == '\t' || *h == ',')
      h++;
    const char *end = h;
    while(*end && *end != ',')
      end++;
    const char *e = end;
    while(e > h && (e[-1] == ' ' || e[-1] == '\t'))
      e--;
    if((size_t)(e - h) == tl && !strncasecmp(h, token, tl))
      return true;
    h = end;
  }
  return false;
}

/* A Sec-WebSocket-Key is 16 bytes in base64: 22 characters and "==". */
static bool ws_key_ok(const char *k)
{
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if(!k || strlen(k) != 24 || strcmp(k + 22, "==") != 0)
    return false;
  for(int i = 0; i < 22; i++)
    if(!k[i] || !strchr(b64, k[i]))
      return false;
  /* The last character carries 2 bits: the other 4 must be zero. */
  return (strchr(b64, k[21]) - b64) % 16 == 0;
}

/* base64(SHA-1(key + GUID)) into out (29 bytes). */
static int ws_accept_value(const char *key, char out[29])
{
  char buf[24 + sizeof(WS_GUID)];
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);
  if(!EVP_Digest(buf, strlen(buf), md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
    return -1;
  return EVP_EncodeBlock((unsigned char *)out, md, 20) == 28 ? 0 : -1;
}

/* The request ended without the upgrade (the client left before the 101
 * went out): the socket never existed. */
static void ws_pending_free(void *p)
{
  struct http_ws *ws = p;
  ws->ops->closed(ws->arg);
  ws_unreserve();
  free(ws);
}

static void ws_on_upgrade(void *cls, struct http_req *r, const char *extra_in,
                          size_t extra_in_size, int sock, struct http_slot slot)
{
  struct http_ws *ws = cls;
  ws->slot = slot;
  if(r && r->ctx == ws) {
    r->ctx = NULL;    /* the socket's now, until ws_close */
    r->ctx_free = NULL;
  }
  ws->fd = sock;
  if(extra_in_size) {
    ws->extra = malloc(extra_in_size);
    if(ws->extra) {
      memcpy(ws->extra, extra_in, extra_in_size);
      ws->extra_len = extra_in_size;
    }
  }
  if((extra_in_size && !ws->extra) || ws_context_init(ws) != 0) {
    log_error("websocket: out of memory");
    ws->ops->closed(ws->arg);
    close(sock);
    http_slot_release(&ws->slot);
    free(ws->extra);
    free(ws);
    ws_unreserve();
    return;
  }
  ws->ops->open(ws, ws->arg);
  ws_loop_add(ws);
}

int http_ws_upgrade(struct http_req *r, const struct http_ws_ops *ops, void *arg)
{
  char accept[29];
  const char *key = http_header(r, "Sec-WebSocket-Key");
  const char *version = http_header(r, "Sec-WebSocket-Version");
  if(strcmp(r->method, "GET") != 0 || !ws_has_token(http_header(r, "Upgrade"), "websocket") ||
     !ws_has_token(http_header(r, "Connection"), "upgrade")) {
    http_reply_error(r, HTTP_BAD_REQUEST, "Not a WebSocket handshake");
    return -1;
  }
  if(!version || strcmp(version, "13") != 0) {
    http_add_header(r, "Sec-WebSocket-Version", "13");
    http_reply_error(r, HTTP_UPGRADE_REQUIRED, "Unsupported WebSocket version");
    return -1;
  }
  if(!ws_key_ok(key) || ws_accept_value(key, accept) != 0) {
    http_reply_error(r, HTTP_BAD_REQUEST, "Invalid Sec-WebSocket-Key");
    return -1;
  }
  if(!ws_reserve()) {
    http_add_header(r, HTTP_HEADER_RETRY_AFTER, "5");
    http_reply_error(r, HTTP_SERVICE_UNAVAILABLE, "Too many WebSockets");
    return -1;
  }
  struct http_ws *ws = calloc(1, sizeof(*ws));
  struct http_response *resp = ws ? http_response_upgrade(ws_on_upgrade, ws) : NULL;
  if(!resp) {
    free(ws);
    ws_unreserve();
    http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
    return -1;
  }
  ws->fd = -1;
  ws->ops = ops;
  ws->arg = arg;
  http_response_header(resp, HTTP_HEADER_UPGRADE, "websocket");
  http_response_header(resp, HTTP_HEADER_CONNECTION, "Upgrade");
  http_response_header(resp, "Sec-WebSocket-Accept", accept);
  /* From here the http_ws owns `arg`: ws_pending_free, or the socket. */
  r->ctx = ws;
  r->ctx_free = ws_pending_free;
  if(http_reply_response(r, HTTP_SWITCHING_PROTOCOLS, resp) != 0)
    log_warn("request %s: the 101 could not be queued", r->request_id);
  return 0;
}
