/* rl_key.h: the fixed-size keys the limiter's state is indexed by. */
#ifndef MCPAUTH_RL_KEY_H
#define MCPAUTH_RL_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "mcpauth/plugin.h"

/* What a key names. Part of the key, so that a principal called
 * "203.0.113.7" never shares a counter with that address. */
typedef enum rl_key_kind {
    RL_KEY_ADDR = 1,      /* parsed address: 16 bytes, IPv4 as ::ffff:a.b.c.d */
    RL_KEY_IP_TEXT = 2,   /* client_ip that does not parse, as given */
    RL_KEY_NO_IP = 3,     /* request without client_ip (stdio): one shared key */
    RL_KEY_PRINCIPAL = 4, /* the principal's key_id */
    RL_KEY_HASHED = 5     /* a text too long for the key: its BLAKE2b hash */
} rl_key_kind;

#define RL_KEY_DATA_MAX 46 /* INET6_ADDRSTRLEN: any IP text fits */

/* Fixed size and zero-padded, so it is hashed and compared as bytes and
 * never needs an allocation. */
typedef struct rl_key {
    uint8_t kind;
    uint8_t len;
    uint8_t data[RL_KEY_DATA_MAX];
} rl_key;

/* The key for a client address (NULL: the shared no-address key). The same
 * address written two ways (::ffff:192.0.2.1 and 192.0.2.1) gives one key. */
void rl_key_from_ip(rl_key *out, const char *ip);

/* The same key from the core's parse of the request's address (st and a
 * from svc->client_addr; ip, the text, for an address that does not
 * parse). Equal to rl_key_from_ip(ip) for every text. */
void rl_key_from_addr(rl_key *out, mcpauth_status st, const mcpauth_addr *a,
                      const char *ip);

/* The key for a principal's key id. */
void rl_key_from_principal(rl_key *out, const char *key_id);

/* Printable form for log lines ("203.0.113.7", "principal k_abc"). */
void rl_key_format(const rl_key *k, char *buf, size_t cap);

#endif
