/* session.h: MCP sessions (the Mcp-Session-Id header). A session is created
 * by initialize, bound to the key that created it, and ended by DELETE. */
#ifndef SRV_SESSION_H
#define SRV_SESSION_H

#include <stddef.h>

/* 16 random bytes as 32 hex digits. */
#define SRV_SESSION_ID_LEN 32
/* Beyond this many sessions the oldest is forgotten. */
#define SRV_SESSION_MAX 4096

typedef struct srv_sessions srv_sessions;

typedef enum srv_session_status {
    SRV_SESSION_OK = 0,
    SRV_SESSION_UNKNOWN = 1  /* never issued, ended, or another key's */
} srv_session_status;

srv_sessions *srv_sessions_new(void);
void srv_sessions_free(srv_sessions *t);

/* Start a session for key `key_id` ("" when the policy names no key) and
 * write its id (SRV_SESSION_ID_LEN + 1 bytes) to id_out. Returns 0 or -1. */
int srv_session_start(srv_sessions *t, const char *key_id, char *id_out);

/* Is `id` a live session of `key_id` (NULL: of any key)? */
srv_session_status srv_session_find(srv_sessions *t, const char *id,
                                    const char *key_id);

/* End session `id` of `key_id`. */
srv_session_status srv_session_end(srv_sessions *t, const char *id,
                                   const char *key_id);

#endif
