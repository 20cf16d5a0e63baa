/* tg_locator: where a chunk lives in Telegram, as the compact text the
 * chunks table stores:
 *
 *   tg1:<bot id>:<chat id>:<message id>:<file_unique_id>:<file_id>
 *
 * The bot id (the digits before ':' in its token) names the bot that sent
 * the document: file_ids only work for that bot, and it deletes the message.
 * The chunk's size and SHA-256 are stored next to the locator already. */
#ifndef NETRA_TG_LOCATOR_H
#define NETRA_TG_LOCATOR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TG_FILE_ID_MAX 192 /* longest file_id / file_unique_id accepted, + NUL */

struct tg_locator {
  int64_t bot_id;      /* > 0 */
  int64_t chat_id;     /* != 0 */
  int64_t message_id;  /* > 0 */
  char file_unique_id[TG_FILE_ID_MAX];
  char file_id[TG_FILE_ID_MAX];
};

/** True for a non-empty id of base64url characters that fits the buffers
 *  (Telegram's file ids are base64url). */
bool tg_file_id_valid(const char *s);

/** Writes the locator text; 0, or -1 when a field is invalid or out is too
 *  small. */
int tg_locator_format(const struct tg_locator *l, char *out, size_t outsz);

/** Parses locator text strictly (canonical decimal numbers, valid ids, no
 *  extra fields); 0, or -1. */
int tg_locator_parse(const char *s, struct tg_locator *l);

/* A message nobody recorded (a gap in a chat's message ids: a document that
 * landed while its upload died) has no file ids and no known sender:
 *
 *   tg1gap:<chat id>:<message id>
 */
/** Writes the gap locator text; 0, or -1. */
int tg_gap_format(int64_t chat_id, int64_t message_id, char *out, size_t outsz);
/** Parses gap locator text strictly; 0, or -1. */
int tg_gap_parse(const char *s, int64_t *chat_id, int64_t *message_id);

#endif
