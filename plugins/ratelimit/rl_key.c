/* rl_key.c: see rl_key.h. */
#include "rl_key.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Store text as is when it fits, else its hash: two long texts must not
 * share a key just because they share a prefix. */
static void rl_key_set_text(rl_key *out, uint8_t kind, const char *text)
{
    size_t n = strlen(text);
    if (n <= RL_KEY_DATA_MAX) {
        out->kind = kind;
        out->len = (uint8_t)n;
        memcpy(out->data, text, n);
        return;
    }
    out->kind = RL_KEY_HASHED;
    out->len = crypto_generichash_BYTES;
    /* The kind is hashed too so that a long IP text and a long key id
     * never collide. */
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
    crypto_generichash_update(&st, &kind, 1);
    crypto_generichash_update(&st, (const unsigned char *)text, n);
    crypto_generichash_final(&st, out->data, crypto_generichash_BYTES);
}

/* An address as 16 bytes, IPv4 as ::ffff:a.b.c.d, so that one address
 * written two ways is one key. */
static void rl_key_set_addr(rl_key *out, int v4, const uint8_t *bytes)
{
    out->kind = RL_KEY_ADDR;
    out->len = 16;
    if (v4) {
        out->data[10] = 0xff;
        out->data[11] = 0xff;
        memcpy(out->data + 12, bytes, 4);
    } else {
        memcpy(out->data, bytes, 16);
    }
}

void rl_key_from_ip(rl_key *out, const char *ip)
{
    memset(out, 0, sizeof(*out));
    uint8_t b[16];
    if (!ip || !*ip)
        out->kind = RL_KEY_NO_IP;
    else if (inet_pton(AF_INET, ip, b) == 1)
        rl_key_set_addr(out, 1, b);
    else if (inet_pton(AF_INET6, ip, b) == 1)
        rl_key_set_addr(out, 0, b);
    else
        rl_key_set_text(out, RL_KEY_IP_TEXT, ip);
}

void rl_key_from_addr(rl_key *out, mcpauth_status st, const mcpauth_addr *a,
                      const char *ip)
{
    memset(out, 0, sizeof(*out));
    if (st == MCPAUTH_ENOTFOUND)
        out->kind = RL_KEY_NO_IP;
    else if (st == MCPAUTH_OK)
        rl_key_set_addr(out, a->family == 4, a->bytes);
    else
        rl_key_set_text(out, RL_KEY_IP_TEXT, ip ? ip : "");
}

void rl_key_from_principal(rl_key *out, const char *key_id)
{
    memset(out, 0, sizeof(*out));
    rl_key_set_text(out, RL_KEY_PRINCIPAL, key_id ? key_id : "");
}

static int rl_key_is_v4(const rl_key *k)
{
    static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(k->data, prefix, sizeof(prefix)) == 0;
}

/* Text keys come from the network: keep control characters out of logs. */
static void rl_key_printable(const rl_key *k, char *buf, size_t cap,
                             const char *prefix)
{
    char text[RL_KEY_DATA_MAX + 1];
    for (size_t i = 0; i < k->len; i++)
        text[i] = (k->data[i] >= 0x20 && k->data[i] < 0x7f) ? (char)k->data[i]
                                                            : '?';
    text[k->len] = '\0';
    snprintf(buf, cap, "%s%s", prefix, text);
}

void rl_key_format(const rl_key *k, char *buf, size_t cap)
{
    char addr[INET6_ADDRSTRLEN];
    switch (k->kind) {
    case RL_KEY_ADDR:
        if (rl_key_is_v4(k))
            inet_ntop(AF_INET, k->data + 12, addr, sizeof(addr));
        else
            inet_ntop(AF_INET6, k->data, addr, sizeof(addr));
        snprintf(buf, cap, "%s", addr);
        break;
    case RL_KEY_IP_TEXT:
        rl_key_printable(k, buf, cap, "");
        break;
    case RL_KEY_NO_IP:
        snprintf(buf, cap, "(no client address)");
        break;
    case RL_KEY_PRINCIPAL:
        rl_key_printable(k, buf, cap, "principal ");
        break;
    default:
        snprintf(buf, cap, "(hashed key)");
        break;
    }
}
