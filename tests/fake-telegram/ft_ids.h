/* ft_ids: bot tokens and the opaque identifiers the fake hands out.
 *
 * A file_id is base64url of (type, bot id, file number, HMAC tag): it names
 * one stored file *for one bot*, so another bot's token cannot use it, and a
 * forged or mangled id fails the tag check. A file_unique_id depends only on
 * the stored file, so it is the same whichever bot asks. */
#ifndef FT_IDS_H
#define FT_IDS_H
#include <stddef.h>
#include <stdint.h>

#define FT_IDS_SECRET_LEN 32
#define FT_FILE_ID_MAX 64        /* buffer size for a file_id string */
#define FT_FILE_UNIQUE_ID_MAX 40 /* buffer size for a file_unique_id string */
#define FT_TOKEN_MAX 128         /* longest token accepted */

/** Sets the key that signs ids (kept in DIR so ids survive a restart). */
void ft_ids_init(const unsigned char secret[FT_IDS_SECRET_LEN]);
/** Checks `<digits>:<[A-Za-z0-9_-]+>`; stores the bot id. 0 if valid, -1 if not. */
int ft_token_parse(const char *token, int64_t *bot_id);
/** Writes the file_id of stored file `file_no` as seen by `bot_id`. */
void ft_file_id_encode(int64_t bot_id, uint64_t file_no, char out[FT_FILE_ID_MAX]);
/** Decodes a file_id; 0 and the owner/file on success, -1 when malformed or forged. */
int ft_file_id_decode(const char *s, int64_t *bot_id, uint64_t *file_no);
/** Writes the bot-independent file_unique_id of stored file `file_no`. */
void ft_file_unique_id_encode(uint64_t file_no, char out[FT_FILE_UNIQUE_ID_MAX]);

#endif
