/* tg_retry: retry classification and backoff arithmetic (see tg_retry.h). */
#include <curl/curl.h>
#include "telegram/tg_retry.h"

/* Transport failures worth another try: the network or the server hiccuped.
 * Everything else (bad URL, our own read or write error, TLS trust, an
 * oversized reply) fails at once. */
static bool tg_transient_curl(int code)
{
  switch(code) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_WEIRD_SERVER_REPLY:
    return true;
  default:
    return false;
  }
}

enum tg_class tg_classify(int curl_code, int status, bool well_formed)
{
  if(curl_code != CURLE_OK)
    return tg_transient_curl(curl_code) ? TG_CLASS_RETRY : TG_CLASS_FAIL;
  if(status == 429)
    return TG_CLASS_RATE;
  if(status >= 500 || status == 408)
    return TG_CLASS_RETRY;
  if(status >= 200 && status < 300)
    return well_formed ? TG_CLASS_OK : TG_CLASS_RETRY;
  return TG_CLASS_FAIL;
}

int64_t tg_backoff_ms(int retry, uint32_t rnd)
{
  int64_t d = TG_BACKOFF_BASE_MS;
  for(int i = 1; i < retry && d < TG_BACKOFF_CAP_MS; i++)
    d *= 2;
  if(d > TG_BACKOFF_CAP_MS)
    d = TG_BACKOFF_CAP_MS;
  return d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
}

uint32_t tg_rand(uint64_t *state)
{
  uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *state = x;
  return (uint32_t)(x >> 32);
}
