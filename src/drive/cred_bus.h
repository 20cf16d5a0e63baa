/* cred_bus: revocations of WebDAV credentials across the nodes that share
 * one PostgreSQL (LISTEN/NOTIFY on the channel netradrive_creds). Each node
 * caches verified credentials for a minute (drive/credcache.h); when an app
 * password is revoked or a password reset on one node, every node forgets
 * that user's entries at once, not when they expire. A listener that lost
 * its connection may have missed some: once back, it empties its whole
 * cache. On SQLite (one node) it is the local forget only. */
#ifndef NETRA_CRED_BUS_H
#define NETRA_CRED_BUS_H

/** Starts the listener thread (PostgreSQL only; a no-op on SQLite). 0, or
 *  -1 when it cannot start. */
int cred_bus_start(void);
/** Stops it. */
void cred_bus_stop(void);

/** Forgets the user's cached credentials here and tells the other nodes
 *  (best effort: a failed notification is logged). Any thread. */
void cred_bus_forget_user(const char *user_id);

/** Only the notification (tests: a node hears its own). */
void cred_bus_notify(const char *user_id);

#endif
