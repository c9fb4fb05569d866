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

/* Performance: nearly every request carries a plain dotted IPv4 address,
 * and inet_pton's general parser showed in the profile of the request path.
 * This accepts a subset of what inet_pton(AF_INET) accepts (four decimal
 * parts of 0 to 255, no leading zeros, nothing after), with the same value;
 * anything else it refuses goes through inet_pton as before. */
static int rl_parse_dotted_v4(const char *s, uint8_t out[4])
{
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++) {
            if (digits && v == 0)
                return 0; /* a leading zero: inet_pton refuses it too */
            v = v * 10 + (unsigned)(*s - '0');
        }
        if (digits == 0 || v > 255)
            return 0;
        out[part] = (uint8_t)v;
        if (part < 3 && *s++ != '.')
            return 0;
    }
    return *s == '\0';
}

void rl_key_from_ip(rl_key *out, const char *ip)
{
    memset(out, 0, sizeof(*out));
    if (!ip || !*ip) {
        out->kind = RL_KEY_NO_IP;
        return;
    }
    struct in_addr v4;
    if (rl_parse_dotted_v4(ip, out->data + 12)) {
        out->kind = RL_KEY_ADDR;
        out->len = 16;
        out->data[10] = 0xff;
        out->data[11] = 0xff;
        return;
    }
    if (inet_pton(AF_INET, ip, &v4) == 1) {
        out->kind = RL_KEY_ADDR;
        out->len = 16;
        out->data[10] = 0xff;
        out->data[11] = 0xff;
        memcpy(out->data + 12, &v4, 4);
        return;
    }
    if (inet_pton(AF_INET6, ip, out->data) == 1) {
        out->kind = RL_KEY_ADDR;
        out->len = 16;
        return;
    }
    rl_key_set_text(out, RL_KEY_IP_TEXT, ip);
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
