/* main.c: mcp-demo-server: options, start-up, signals and shutdown.
 *
 * Signals are blocked in every thread and taken by sigwait() in the main
 * thread, so the library is never called from a signal handler: SIGHUP
 * reloads the policy (a failed reload keeps the old one serving), SIGTERM
 * and SIGINT stop the listener, then mcpauth_close() flushes the audit log.
 */
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "server.h"

#define SRV_TRUSTED_MAX 32
#define SRV_EXIT_USAGE 2

typedef struct srv_opts {
    const char *policy;
    const char *listen;
    srv_cidr trusted[SRV_TRUSTED_MAX];
    size_t ntrusted;
    int quiet;
} srv_opts;

static void srv_usage(FILE *f)
{
    fprintf(f,
        "usage: " SRV_NAME " [--policy FILE] [--listen HOST:PORT] [--trusted-proxy CIDR]...\n"
        "                       [--quiet]\n"
        "  An MCP server (Streamable HTTP, POST /mcp) of a small home, protected by\n"
        "  mcpauth. --policy defaults to policy/default.yaml, --listen to\n"
        "  127.0.0.1:8787 ([::1]:8787 for IPv6; port 0 picks a free port).\n"
        "  X-Forwarded-For is passed to the policy only from a --trusted-proxy.\n"
        "  SIGHUP reloads the policy; SIGTERM or SIGINT stops the server.\n");
}

static int srv_parse_opts(int argc, char **argv, srv_opts *o)
{
    static const struct option longs[] = {
        { "policy", required_argument, NULL, 'p' },
        { "listen", required_argument, NULL, 'l' },
        { "trusted-proxy", required_argument, NULL, 't' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    int c;
    o->policy = "policy/default.yaml";
    o->listen = "127.0.0.1:8787";
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == 'p') {
            o->policy = optarg;
        } else if (c == 'l') {
            o->listen = optarg;
        } else if (c == 't') {
            if (o->ntrusted == SRV_TRUSTED_MAX || srv_parse_cidr(optarg, &o->trusted[o->ntrusted]) != 0) {
                fprintf(stderr, "%s: --trusted-proxy '%s': not an address or CIDR (at most %d)\n",
                        SRV_NAME, optarg, SRV_TRUSTED_MAX);
                return -1;
            }
            o->ntrusted++;
        } else if (c == 'q') {
            o->quiet = 1;
        } else if (c == 'h') {
            srv_usage(stdout);
            exit(0);
        } else {
            srv_usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", SRV_NAME, argv[optind]);
        return -1;
    }
    return 0;
}

static void srv_log(void *arg, int level, const char *message)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    (void)arg;
    fprintf(stderr, "%s: mcpauth %s: %s\n", SRV_NAME,
            level >= 0 && level <= 3 ? names[level] : "log", message);
}

static void srv_reload(mcpauth *a, const char *policy)
{
    mcpauth_error err;
    if (mcpauth_reload(a, &err) == MCPAUTH_OK)
        fprintf(stderr, "%s: SIGHUP: reloaded %s\n", SRV_NAME, policy);
    else
        fprintf(stderr, "%s: SIGHUP: reload failed, the previous policy keeps serving: %s\n",
                SRV_NAME, err.message);
}

/* Wait for signals until asked to stop. */
static void srv_wait(const sigset_t *set, srv *s, const char *policy)
{
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            srv_reload(s->auth, policy);
            continue;
        }
        fprintf(stderr, "%s: %s: shutting down\n", SRV_NAME, sig == SIGINT ? "SIGINT" : "SIGTERM");
        return;
    }
}

static void srv_announce(const struct sockaddr *sa, unsigned port, const char *policy)
{
    char host[SRV_ADDR_TEXT_MAX];
    srv_addr_text(sa, host, sizeof host);
    if (sa->sa_family == AF_INET6)
        printf("%s: listening on http://[%s]:%u/mcp (policy %s)\n", SRV_NAME, host, port, policy);
    else
        printf("%s: listening on http://%s:%u/mcp (policy %s)\n", SRV_NAME, host, port, policy);
    fflush(stdout);
}

/* Open the policy and bind the listener; on failure say why and return -1. */
static int srv_start(srv *s, const srv_opts *o, struct MHD_Daemon **d)
{
    struct sockaddr_storage addr;
    socklen_t alen;
    mcpauth_options mo = MCPAUTH_OPTIONS_INIT;
    mcpauth_error err;
    char why[256];
    if (srv_parse_listen(o->listen, &addr, &alen, why, sizeof why) != 0) {
        fprintf(stderr, "%s: --listen %s\n", SRV_NAME, why);
        return -1;
    }
    mo.log = srv_log;
    if (mcpauth_open_ex(&s->auth, o->policy, NULL, &mo, &err) != MCPAUTH_OK) {
        fprintf(stderr, "%s: %s\n", SRV_NAME, err.message);
        return -1;
    }
    *d = srv_http_start(s, (const struct sockaddr *)&addr, why, sizeof why);
    if (!*d) {
        fprintf(stderr, "%s: cannot listen on %s: %s\n", SRV_NAME, o->listen, why);
        return -1;
    }
    srv_announce((const struct sockaddr *)&addr, srv_http_port(*d), o->policy);
    return 0;
}

int main(int argc, char **argv)
{
    srv_opts o;
    srv s;
    struct MHD_Daemon *d = NULL;
    sigset_t set;
    int rc = SRV_EXIT_USAGE;
    memset(&o, 0, sizeof o);
    memset(&s, 0, sizeof s);
    if (srv_parse_opts(argc, argv, &o) != 0)
        return SRV_EXIT_USAGE;
    if (sodium_init() < 0)
        return 1;
    /* Block before any thread exists, so every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    s.trusted = o.trusted;
    s.ntrusted = o.ntrusted;
    s.quiet = o.quiet;
    s.sessions = srv_sessions_new();
    s.home = home_new();
    if (!s.sessions || !s.home)
        goto out;
    if (srv_start(&s, &o, &d) != 0)
        goto out;
    srv_wait(&set, &s, o.policy);
    rc = 0;
out:
    srv_http_stop(d);        /* every request finishes before ... */
    mcpauth_close(s.auth);   /* ... the policy is closed and the audit flushed */
    srv_sessions_free(s.sessions);
    home_free(s.home);
    if (rc == 0)
        fprintf(stderr, "%s: stopped\n", SRV_NAME);
    return rc;
}
