/* ipwhitelist.c: the ipwhitelist plugin. Allows a request when its client
 * address passes the instance's deny and allow lists and, when the
 * principal carries its own address list, that list too. Lists are compiled
 * into range sets at create; a vote allocates nothing and only reads. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipset.h"
#include "mcpauth/plugin.h"

typedef struct ipw_state {
    const mcpauth_services *svc;
    ipw_set allow;
    ipw_set deny;
    ipw_set trusted;
    int allow_all;   /* no `allow` key: every address not denied passes */
    int per_key;
    int shared_addr; /* the core has svc->client_addr (older cores do not) */
} ipw_state;

/* Details name the client address, so they are formatted per request into
 * a per-thread buffer that stays valid until this thread's next vote. */
static _Thread_local char ipw_detail_buf[256];

static const char ipw_message[] = "client address not allowed";

/* Read `key` (a list of addresses and CIDR blocks) into set; *present says
 * whether the key was there. Errors name the offending item. */
static mcpauth_status ipw_read_set(const mcpauth_services *svc,
                                   const mcpauth_config *config,
                                   const char *key, ipw_set *set, int *present)
{
    const mcpauth_config *const *items = NULL, *node = NULL;
    size_t n = 0;
    if (svc->config_node(config, key, &node) == MCPAUTH_OK &&
        svc->config_kind(node) == MCPAUTH_CONFIG_MAP) {
        svc->config_error(config, key, "'%s' must be a list of addresses", key);
        return MCPAUTH_EPOLICY;
    }
    mcpauth_status st = svc->config_string_nodes(config, key, &items, &n);
    *present = st != MCPAUTH_ENOTFOUND;
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    for (size_t i = 0; i < n; i++) {
        const char *text = svc->config_scalar(items[i]);
        ipw_cidr c;
        const char *why = ipw_cidr_parse(text, 1, &c);
        if (why) {
            svc->config_error(items[i], NULL, "bad address in '%s': '%s': %s", key,
                              text, why);
            return MCPAUTH_EPOLICY;
        }
        if (ipw_set_add(set, &c) != 0)
            return MCPAUTH_ENOMEM;
    }
    ipw_set_finish(set);
    return MCPAUTH_OK;
}

static mcpauth_status ipw_read_config(ipw_state *s,
                                      const mcpauth_config *config)
{
    const mcpauth_services *svc = s->svc;
    int present = 0;
    mcpauth_status st = ipw_read_set(svc, config, "allow", &s->allow, &present);
    if (st != MCPAUTH_OK)
        return st;
    s->allow_all = !present;
    if (present && ipw_set_size(&s->allow) == 0) {
        /* Almost surely a mistake; say so instead of denying everyone. */
        svc->config_error(config, "allow",
                          "'allow' is empty, which would deny every client; "
                          "leave it out to allow every address not denied");
        return MCPAUTH_EPOLICY;
    }
    st = ipw_read_set(svc, config, "deny", &s->deny, &present);
    if (st == MCPAUTH_OK)
        st = ipw_read_set(svc, config, "trusted_proxies", &s->trusted,
                          &present);
    if (st != MCPAUTH_OK)
        return st;
    s->per_key = 1;
    st = svc->config_bool(config, "per_key", &s->per_key);
    if (st == MCPAUTH_ENOTFOUND)
        st = MCPAUTH_OK;
    return st == MCPAUTH_OK ? MCPAUTH_OK : MCPAUTH_EPOLICY;
}

static void ipw_destroy(void *state)
{
    ipw_state *s = state;
    if (!s)
        return;
    ipw_set_free(&s->allow);
    ipw_set_free(&s->deny);
    ipw_set_free(&s->trusted);
    free(s);
}

static mcpauth_status ipw_create(void **state, const mcpauth_plugin_env *env,
                                 const mcpauth_config *config)
{
    ipw_state *s = calloc(1, sizeof(*s));
    if (!s)
        return MCPAUTH_ENOMEM;
    s->svc = env->svc;
    s->shared_addr = MCPAUTH_SVC_HAS(env->svc, client_addr);
    mcpauth_status st = ipw_read_config(s, config);
    if (st != MCPAUTH_OK) {
        ipw_destroy(s);
        return st;
    }
    *state = s;
    return MCPAUTH_OK;
}

static int ipw_is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The right-most X-Forwarded-For entry that is not a trusted proxy. When
 * every entry is one, the left-most; when the header is blank, the peer. */
static int ipw_from_forwarded(const ipw_state *s, const char *ff,
                              const ipw_addr *peer, ipw_addr *out)
{
    const char *end = ff + strlen(ff);
    *out = *peer;
    if (ff[strspn(ff, " \t")] == '\0')
        return 0;
    for (;;) {
        const char *start = end;
        while (start > ff && start[-1] != ',')
            start--;
        const char *a = start, *b = end;
        while (a < b && ipw_is_space(*a))
            a++;
        while (b > a && ipw_is_space(b[-1]))
            b--;
        ipw_addr e;
        if (ipw_addr_parse(a, (size_t)(b - a), &e) != 0)
            return -1; /* garbage where a proxy wrote: trust nothing */
        *out = e;
        if (!ipw_set_contains(&s->trusted, &e) || start == ff)
            break;
        end = start - 1;
    }
    return 0;
}

/* The request's own address. The core parses client_ip once per check,
 * with this plugin's parser (ipaddr.c), and hands the same result to
 * ratelimit; under a core older than that service it is parsed here. */
static mcpauth_status ipw_peer(const ipw_state *s, mcpauth_ctx *ctx,
                               const mcpauth_request *req, ipw_addr *out)
{
    if (!s->shared_addr) {
        if (!req->client_ip || !*req->client_ip)
            return MCPAUTH_ENOTFOUND;
        return ipw_addr_parse(req->client_ip, strlen(req->client_ip), out) == 0
                   ? MCPAUTH_OK : MCPAUTH_EINVAL;
    }
    mcpauth_addr a;
    mcpauth_status st = s->svc->client_addr(ctx, &a);
    if (st == MCPAUTH_OK) {
        out->family = a.family;
        memcpy(out->b, a.bytes, sizeof(out->b));
    }
    return st;
}

/* The address to judge. Only when the peer is a trusted proxy is the
 * forwarded_for header consulted: anyone else could write anything there. */
static int ipw_client(const ipw_state *s, mcpauth_ctx *ctx, const mcpauth_request *req,
                      ipw_addr *out, const char **why)
{
    ipw_addr peer;
    mcpauth_status st = ipw_peer(s, ctx, req, &peer);
    if (st == MCPAUTH_ENOTFOUND) {
        *why = "no client address";
        return -1;
    }
    if (st != MCPAUTH_OK) {
        *why = "client address does not parse";
        return -1;
    }
    if (!req->forwarded_for || !ipw_set_contains(&s->trusted, &peer)) {
        *out = peer;
        return 0;
    }
    if (ipw_from_forwarded(s, req->forwarded_for, &peer, out) != 0) {
        *why = "forwarded_for from a trusted proxy does not parse";
        return -1;
    }
    return 0;
}

/* The principal's own list; entries that do not parse match nothing. */
static int ipw_key_allows(const mcpauth_principal *p, const ipw_addr *a)
{
    for (size_t i = 0; p->allowed_ips[i]; i++) {
        ipw_cidr c;
        if (!ipw_cidr_parse(p->allowed_ips[i], 0, &c) &&
            ipw_cidr_contains(&c, a))
            return 1;
    }
    return 0;
}

static void ipw_deny(mcpauth_vote_result *out, const ipw_addr *a,
                     const char *what)
{
    char text[IPW_TEXT_MAX];
    snprintf(ipw_detail_buf, sizeof(ipw_detail_buf), "client %s %s",
             ipw_addr_text(a, text, sizeof(text)), what);
    out->vote = MCPAUTH_VOTE_DENY;
    out->reason = MCPAUTH_REASON_IP_DENIED;
    out->message = ipw_message;
    out->detail = ipw_detail_buf;
}

/* per_key with nobody established: the key's own address list cannot be
 * checked, and allowing would let every key's --ip limit go unenforced
 * without a word (the natural mistake: one instance first in the stack,
 * before apikey). Fail closed, the way role treats a missing principal,
 * and say how to mend the policy. */
static void ipw_no_principal(mcpauth_vote_result *out)
{
    out->vote = MCPAUTH_VOTE_DENY;
    out->reason = MCPAUTH_REASON_NO_CREDENTIALS;
    out->message = "credentials are required";
    out->detail = "per_key needs a principal: place this entry after apikey, "
                  "or set per_key: false";
}

static mcpauth_status ipw_vote(void *state, mcpauth_ctx *ctx,
                               const mcpauth_request *req,
                               mcpauth_vote_result *out)
{
    const ipw_state *s = state;
    ipw_addr a;
    const char *why = NULL;
    if (ipw_client(s, ctx, req, &a, &why) != 0) {
        out->vote = MCPAUTH_VOTE_DENY;
        out->reason = MCPAUTH_REASON_IP_DENIED;
        out->message = ipw_message;
        out->detail = why;
        return MCPAUTH_OK;
    }
    const mcpauth_principal *p = s->per_key ? s->svc->principal(ctx) : NULL;
    if (ipw_set_contains(&s->deny, &a))
        ipw_deny(out, &a, "is on the deny list");
    else if (!s->allow_all && !ipw_set_contains(&s->allow, &a))
        ipw_deny(out, &a, "is not on the allow list");
    else if (s->per_key && !p)
        ipw_no_principal(out);
    else if (p && p->allowed_ips && p->allowed_ips[0] && !ipw_key_allows(p, &a))
        ipw_deny(out, &a, "is not in the key's allowed addresses");
    else
        out->vote = MCPAUTH_VOTE_ALLOW;
    return MCPAUTH_OK;
}

static const mcpauth_plugin ipw_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION,
    (uint32_t)sizeof(mcpauth_plugin),
    "ipwhitelist",
    "allow or deny requests by client address (IPv4 and IPv6 CIDR blocks)",
    ipw_create,
    ipw_vote,
    NULL,
    NULL,
    ipw_destroy,
    MCPAUTH_PLUGIN_NO_CLOCK, /* decides on the address alone */
    NULL, /* prepare */
};

MCPAUTH_PLUGIN_DEFINE(ipw_plugin)
