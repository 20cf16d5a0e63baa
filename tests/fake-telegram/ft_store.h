/* ft_store: what the fake has received: stored files (bytes under DIR/files),
 * the messages that carry them, per-chat message numbering, and an
 * append-only index (DIR/index.jsonl) replayed at start so a restarted fake
 * still knows its files and messages. One mutex guards it all. */
#ifndef FT_STORE_H
#define FT_STORE_H
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "ft_ids.h"

#define FT_NAME_MAX 256   /* bytes kept of a file name */
#define FT_MIME_MAX 128

/** A copy of one stored file's facts. */
struct ft_file_info {
  uint64_t no;             /* 1, 2, ... */
  int64_t bot_id;          /* the bot that uploaded it */
  uint64_t size;
  char sha256[65];
  char name[FT_NAME_MAX];
  char mime[FT_MIME_MAX];
};

/** A copy of one message's facts. */
struct ft_msg_info {
  int64_t chat_id;
  int64_t message_id;
  int64_t bot_id;
  int64_t date;
  uint64_t file_no;
  int deleted;
};

struct ft_store_chat;

struct ft_store {
  pthread_mutex_t lock;
  char dir[PATH_MAX];
  FILE *index;
  struct ft_file_info *files;  /* files[no - 1] */
  size_t nfiles, cap_files;
  struct ft_msg_info *msgs;
  size_t nmsgs, cap_msgs;
  struct ft_store_chat *chats;
  size_t nchats, cap_chats;
};

/** Opens (creating) DIR/files, DIR/tmp, DIR/secret and the index; writes the
 *  id secret to `secret`. 0 or -1 with a message on stderr. */
int ft_store_open(struct ft_store *s, const char *dir, unsigned char secret[FT_IDS_SECRET_LEN]);
/** Frees memory and closes the index. */
void ft_store_close(struct ft_store *s);
/** Creates a temporary upload file under DIR/tmp; returns its fd or -1. */
int ft_store_tmp_open(struct ft_store *s, char *path, size_t pathsz);
/** Writes the absolute path of stored file `no` into out. */
void ft_store_data_path(const struct ft_store *s, uint64_t no, char *out, size_t outsz);
/** Moves a finished upload into the store; 0 and *no, or -1. */
int ft_store_add_file(struct ft_store *s, int64_t bot_id, const char *tmp_path, uint64_t size,
                      const char *sha256, const char *name, const char *mime, uint64_t *no);
/** Copies the facts of file `no`; 0, or -1 when there is no such file. */
int ft_store_file(struct ft_store *s, uint64_t no, struct ft_file_info *out);
/** Posts a message carrying file `file_no` to `chat_id` with the chat's next
 *  message id; 0 and *out, or -1. */
int ft_store_add_message(struct ft_store *s, int64_t chat_id, int64_t bot_id, uint64_t file_no,
                         struct ft_msg_info *out);
/** Marks a message deleted; 0, or -1 when it does not exist (or is gone). */
int ft_store_delete_message(struct ft_store *s, int64_t chat_id, int64_t message_id);
/** Every message ever stored, as a JSON array (new reference). */
json_t *ft_store_messages_json(struct ft_store *s);

#endif
