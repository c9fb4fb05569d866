/* session.c: a small table of sessions behind one mutex. Lookups are a
 * linear scan of at most SRV_SESSION_MAX entries with a constant-time
 * comparison: a session id is a bearer value too. */
#include "session.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth/mcpauth.h"

typedef struct srv_session {
    char id[SRV_SESSION_ID_LEN + 1];
    char key_id[MCPAUTH_KEY_ID_MAX];
    unsigned long long born;  /* creation order, to forget the oldest */
} srv_session;

struct srv_sessions {
    pthread_mutex_t lock;
    srv_session *v;
    size_t n;
    unsigned long long clock;
};

srv_sessions *srv_sessions_new(void)
{
    srv_sessions *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->v = calloc(SRV_SESSION_MAX, sizeof *t->v);
    if (!t->v) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void srv_sessions_free(srv_sessions *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    sodium_memzero(t->v, SRV_SESSION_MAX * sizeof *t->v);
    free(t->v);
    free(t);
}

/* The slot for a new session: a free one, else the oldest. */
static size_t srv_session_slot(srv_sessions *t)
{
    if (t->n < SRV_SESSION_MAX)
        return t->n++;
    size_t oldest = 0;
    for (size_t i = 1; i < t->n; i++)
        if (t->v[i].born < t->v[oldest].born)
            oldest = i;
    return oldest;
}

int srv_session_start(srv_sessions *t, const char *key_id, char *id_out)
{
    unsigned char raw[SRV_SESSION_ID_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(id_out, SRV_SESSION_ID_LEN + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    pthread_mutex_lock(&t->lock);
    srv_session *s = &t->v[srv_session_slot(t)];
    memcpy(s->id, id_out, sizeof s->id);
    snprintf(s->key_id, sizeof s->key_id, "%s", key_id ? key_id : "");
    s->born = ++t->clock;
    pthread_mutex_unlock(&t->lock);
    return 0;
}

/* Index of `id`, or -1. Called with the lock held. */
static long srv_session_index(srv_sessions *t, const char *id)
{
    if (!id || strlen(id) != SRV_SESSION_ID_LEN)
        return -1;
    for (size_t i = 0; i < t->n; i++)
        if (sodium_memcmp(t->v[i].id, id, SRV_SESSION_ID_LEN) == 0)
            return (long)i;
    return -1;
}

static int srv_session_owned(const srv_session *s, const char *key_id)
{
    return !key_id || strcmp(s->key_id, key_id) == 0;
}

srv_session_status srv_session_find(srv_sessions *t, const char *id,
                                    const char *key_id)
{
    pthread_mutex_lock(&t->lock);
    long i = srv_session_index(t, id);
    srv_session_status st = (i >= 0 && srv_session_owned(&t->v[i], key_id))
                                ? SRV_SESSION_OK : SRV_SESSION_UNKNOWN;
    pthread_mutex_unlock(&t->lock);
    return st;
}

srv_session_status srv_session_end(srv_sessions *t, const char *id,
                                   const char *key_id)
{
    srv_session_status st = SRV_SESSION_UNKNOWN;
    if (!key_id)
        return st;
    pthread_mutex_lock(&t->lock);
    long i = srv_session_index(t, id);
    if (i >= 0 && srv_session_owned(&t->v[i], key_id)) {
        t->v[i] = t->v[--t->n];
        memset(&t->v[t->n], 0, sizeof t->v[t->n]);
        st = SRV_SESSION_OK;
    }
    pthread_mutex_unlock(&t->lock);
    return st;
}
