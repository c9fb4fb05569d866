/* test_record.c: the decision record formatter (record.c) and the JSON
 * escaping it uses (core/audit_line.c) write exactly the bytes of the
 * straightforward piecewise formatting they replaced: a byte-by-byte escaper
 * and one bounds-checked append per piece, kept here as the reference. Any
 * difference would change the log format and break existing chains. */
#include <stdlib.h>
#include <string.h>

#include "audit_line.h"
#include "mcpauth/plugin.h"
#include "record.h"
#include "testutil.h"

/* ---- the reference: the formatting before the single-reservation one ---- */

static void ref_escape_byte(mcpauth__abuf *b, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
    switch (c) {
    case '"': mcpauth__abuf_put(b, "\\\"", 2); break;
    case '\\': mcpauth__abuf_put(b, "\\\\", 2); break;
    case '\n': mcpauth__abuf_put(b, "\\n", 2); break;
    case '\r': mcpauth__abuf_put(b, "\\r", 2); break;
    case '\t': mcpauth__abuf_put(b, "\\t", 2); break;
    default: mcpauth__abuf_put(b, u, 6);
    }
}

static void ref_str(mcpauth__abuf *b, const char *s)
{
    if (!s) {
        mcpauth__abuf_put(b, "null", 4);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    mcpauth__abuf_put(b, "\"", 1);
    while (n) {
        size_t k = 1;
        if (p[0] >= 0x20 && p[0] < 0x7f && p[0] != '"' && p[0] != '\\')
            mcpauth__abuf_put(b, p, 1);
        else if (p[0] >= 0x80 && (k = mcpauth__utf8_seq(p, n)) != 0)
            mcpauth__abuf_put(b, p, k);
        else if (p[0] >= 0x80)
            mcpauth__abuf_put(b, "\\ufffd", 6), k = 1;
        else
            ref_escape_byte(b, p[0]);
        p += k;
        n -= k;
    }
    mcpauth__abuf_put(b, "\"", 1);
}

static void ref_field(mcpauth__abuf *b, const char *key, const char *s)
{
    mcpauth__abuf_put(b, ",\"", 2);
    mcpauth__abuf_puts(b, key);
    mcpauth__abuf_put(b, "\":", 2);
    ref_str(b, s);
}

static void ref_number(mcpauth__abuf *b, const char *key, uint64_t v)
{
    mcpauth__abuf_put(b, ",\"", 2);
    mcpauth__abuf_puts(b, key);
    mcpauth__abuf_put(b, "\":", 2);
    mcpauth__abuf_u64(b, v);
}

static void ref_decision(mcpauth__abuf *b, const mcpauth_request *req,
                         const mcpauth_outcome *o)
{
    const mcpauth_principal *p = o->principal;
    char t[32];
    size_t n = mcpauth_format_time_ms(o->now_ms, t, sizeof(t));
    mcpauth__abuf_puts(b, "\"time\":\"");
    mcpauth__abuf_put(b, t, n < sizeof(t) ? n : 0);
    mcpauth__abuf_puts(b, o->allowed ? "\",\"event\":\"decision\",\"allowed\":true"
                                     : "\",\"event\":\"decision\",\"allowed\":false");
    ref_field(b, "reason", mcpauth_reason_name(o->reason));
    ref_number(b, "http_status", o->http_status > 0 ? (uint64_t)o->http_status : 0);
    ref_field(b, "plugin", o->plugin);
    ref_field(b, "key_id", p ? p->key_id : NULL);
    ref_field(b, "key_name", p ? p->key_name : NULL);
    ref_field(b, "role", p ? p->role : NULL);
    ref_field(b, "client_ip", req->client_ip);
    ref_field(b, "method", req->method);
    ref_field(b, "tool", req->tool);
    ref_field(b, "resource", req->resource);
    ref_field(b, "transport", req->transport);
    ref_number(b, "bytes", req->bytes);
    ref_number(b, "latency_ns", o->latency_ns);
    ref_field(b, "detail", o->detail);
}

/* ---- inputs ------------------------------------------------------------- */

/* Bytes that exercise every branch: plain text, each escaped character,
 * valid and invalid UTF-8 of every length, DEL and the high bytes. */
static const unsigned char pool[] = {
    'a', 'z', 'A', '0', ' ', '~', '/', '.', '-', '_', ':', '"', '\\', '\n',
    '\r', '\t', 0x01, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xa9, 0xe2, 0x82,
    0xac, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0x80, 0xf4, 0x90, 0xf5, 0xff,
};

static unsigned rnd_state = 12345;

static unsigned rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

/* A random string of 0 to 40 bytes into buf, mostly plain; or NULL. */
static const char *rnd_str(char *buf)
{
    if (rnd() % 10 == 0)
        return NULL;
    size_t n = rnd() % 41;
    int plain = rnd() % 2;
    for (size_t i = 0; i < n; i++)
        buf[i] = plain && rnd() % 16 ? (char)('!' + rnd() % 94)
                                      : (char)pool[rnd() % sizeof(pool)];
    buf[n] = '\0';
    return buf;
}

static int same(const mcpauth__abuf *a, const mcpauth__abuf *b)
{
    return !a->oom && !b->oom && a->len == b->len && !memcmp(a->p, b->p, a->len);
}

/* ---- tests -------------------------------------------------------------- */

static void test_strings_match_reference(void)
{
    char s[64], got[256], want[256];
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        const char *v = rnd_str(s);
        mcpauth__abuf g, w;
        mcpauth__abuf_init(&g, got, sizeof(got));
        mcpauth__abuf_init(&w, want, sizeof(want));
        mcpauth__abuf_json_str(&g, v);
        ref_str(&w, v);
        bad += !same(&g, &w);
        mcpauth__abuf_free(&g);
        mcpauth__abuf_free(&w);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_decisions_match_reference(void)
{
    char s[11][64], got[4096], want[4096];
    static const int64_t times[] = { 0, 1, 999, 1790000000123LL, -1, -1500,
                                     253402300799999LL };
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        mcpauth_principal p;
        memset(&p, 0, sizeof(p));
        p.key_id = rnd_str(s[0]);
        p.key_name = rnd_str(s[1]);
        p.role = rnd_str(s[2]);
        mcpauth_request req = MCPAUTH_REQUEST_INIT;
        req.client_ip = rnd_str(s[3]);
        req.method = rnd_str(s[4]);
        req.tool = rnd_str(s[5]);
        req.resource = rnd_str(s[6]);
        req.transport = rnd_str(s[7]);
        req.bytes = i % 3 ? rnd() : UINT64_MAX;
        mcpauth_outcome o;
        memset(&o, 0, sizeof(o));
        o.allowed = (int)(rnd() % 2);
        o.reason = (mcpauth_reason)(rnd() % 20);
        o.http_status = (int)(rnd() % 700) - 100;
        o.plugin = rnd_str(s[8]);
        o.detail = rnd_str(s[9]);
        o.principal = rnd() % 5 ? &p : NULL;
        o.latency_ns = i % 4 ? rnd() : 0;
        o.now_ms = i % 3 ? times[rnd() % 7] + (int64_t)(rnd() % 5000)
                         : times[i % 7];
        mcpauth__abuf g, w;
        mcpauth__abuf_init(&g, got, sizeof(got));
        mcpauth__abuf_init(&w, want, sizeof(want));
        af_format_decision(&g, &req, &o);
        ref_decision(&w, &req, &o);
        bad += !same(&g, &w);
        mcpauth__abuf_free(&g);
        mcpauth__abuf_free(&w);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* A record longer than the caller's buffer moves to the heap intact. */
static void test_long_record(void)
{
    size_t n = 100000;
    char *tool = malloc(n + 1), small[64];
    for (size_t i = 0; i < n; i++)
        tool[i] = (char)pool[i % sizeof(pool)];
    tool[n] = '\0';
    mcpauth_request req = MCPAUTH_REQUEST_INIT;
    req.tool = tool;
    mcpauth_outcome o;
    memset(&o, 0, sizeof(o));
    o.now_ms = 1790000000123LL;
    mcpauth__abuf g, w;
    mcpauth__abuf_init(&g, small, sizeof(small));
    mcpauth__abuf_init(&w, NULL, 0);
    af_format_decision(&g, &req, &o);
    ref_decision(&w, &req, &o);
    CU_ASSERT_TRUE(same(&g, &w));
    mcpauth__abuf_free(&g);
    mcpauth__abuf_free(&w);
    free(tool);
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("audit-file record", NULL, NULL);
    if (!s)
        return -1;
    CU_add_test(s, "escaped strings match the reference", test_strings_match_reference);
    CU_add_test(s, "decision records match the reference", test_decisions_match_reference);
    CU_add_test(s, "a long record moves to the heap intact", test_long_record);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
