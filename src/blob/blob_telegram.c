/* blob_telegram: placeholder until the Telegram backend lands. */
#include <stdio.h>
#include "blob/backend.h"

static void *tg_open(const struct config *cfg, char *err, size_t errlen)
{
  (void)cfg;
  snprintf(err, errlen, "STORAGE_BACKEND: telegram storage is not available in this build yet");
  return NULL;
}

const struct blob_backend blob_telegram_backend = {
  .name = "telegram",
  .open = tg_open,
};
