/* test_audit_syslog.c: the audit-syslog plugin sends RFC 5424 datagrams;
 * the tests receive them on real sockets (a temporary AF_UNIX datagram
 * socket, and UDP on 127.0.0.1) and check their content. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "mcpauth/mcpauth.h"
#include "testutil.h"

#define T0 1790000000000LL  /* 2026-09-21T14:13:20.000Z */

static char *dir;

static int setup(void)
{
    dir = tu_mkdtemp();
    return 0;
}

static int teardown(void)
{
    tu_rmtree(dir);
    free(dir);
    return 0;
}

/* A receiving socket; a receive timeout only so that a broken plugin fails
 * the test instead of hanging it. */
static void recv_guard(int fd)
{
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int unix_receiver(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un un;
    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
    recv_guard(fd);
    return fd;
}

static int udp_receiver(int *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    getsockname(fd, (struct sockaddr *)&in, &len);
    *port = ntohs(in.sin_port);
    recv_guard(fd);
    return fd;
}

/* The next datagram as a string (caller frees), or NULL. */
static char *receive(int fd, int flags)
{
    char buf[8192];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, flags);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return strdup(buf);
}

static int log_errors;

static void count_log(void *arg, int level, const char *msg)
{
    (void)arg;
    if (level == 0 && strstr(msg, "audit-syslog"))
        log_errors++;
}

/* A scripted gate voting `vote`/`reason`, then audit-syslog with `cfg`. */
static mcpauth *open_stack(const char *vote, const char *reason, const char *cfg,
                           mcpauth_error *err)
{
    char *yaml = tu_fmt(
        "version: 1\n"
        "stack:\n"
        "  - plugin: %s\n"
        "    control: required\n"
        "    name: gate\n"
        "    config:\n"
        "      vote: %s\n"
        "      reason: %s\n"
        "      principal: { key_id: k1, key_name: alice, role: admin }\n"
        "  - plugin: audit-syslog\n"
        "    control: optional\n"
        "    config: { %s }\n",
        tu_script_so(), vote, reason, cfg);
    char *p = tu_write(dir, "policy.yaml", yaml);
    mcpauth *a = NULL;
    mcpauth_options o = MCPAUTH_OPTIONS_INIT;
    o.log = count_log;
    if (mcpauth_open_ex(&a, p, NULL, &o, err) != MCPAUTH_OK)
        a = NULL;
    free(p);
    free(yaml);
    return a;
}

static void check(mcpauth *a, const char *tool)
{
    mcpauth_request r = MCPAUTH_REQUEST_INIT;
    mcpauth_decision d;
    r.credential = "mcp_live_SECRETSECRET";
    r.client_ip = "203.0.113.7";
    r.method = "tools/call";
    r.tool = tool;
    r.transport = "http";
    r.bytes = 42;
    r.now_ms = T0;
    mcpauth_check(a, &r, &d);
}

static void expect_has(const char *msg, const char *part)
{
    int ok = msg && strstr(msg, part) != NULL;
    if (!ok)
        fprintf(stderr, "\nmissing [%s] in [%s]\n", part, msg ? msg : "(null)");
    CU_ASSERT_TRUE(ok);
}

static void test_unix_deny_and_allow(void)
{
    char *sock = tu_fmt("%s/log.sock", dir);
    int fd = unix_receiver(sock);
    char *cfg = tu_fmt("socket: %s, log_allows: true, ident: gateway", sock);
    mcpauth_error err;
    mcpauth *deny = open_stack("deny", "forbidden", cfg, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deny);
    char *m = receive(fd, 0);          /* authpriv.notice: 10*8+5 */
    CU_ASSERT_PTR_NOT_NULL(m && !strncmp(m, "<85>1 ", 6));
    expect_has(m, " gateway ");
    expect_has(m, " policy.loaded [mcpauth@32473 detail=\"");
    free(m);

    check(deny, "deploy");
    m = receive(fd, 0);                /* authpriv.warning: 10*8+4 */
    CU_ASSERT_PTR_NOT_NULL(m && !strncmp(m, "<84>1 2026-09-21T14:13:20.000Z ", 31));
    char *head = tu_fmt(" gateway %ld decision [mcpauth@32473 ", (long)getpid());
    expect_has(m, head);
    free(head);
    expect_has(m, "[mcpauth@32473 allowed=\"false\" reason=\"forbidden\" "
                  "http_status=\"403\" plugin=\"gate\" key_id=\"k1\" "
                  "key_name=\"alice\" role=\"admin\" client_ip=\"203.0.113.7\" "
                  "method=\"tools/call\" tool=\"deploy\" transport=\"http\" "
                  "bytes=\"42\" latency_ns=\"");
    CU_ASSERT_PTR_NULL(strstr(m, "SECRET"));
    CU_ASSERT_PTR_NULL(strstr(m, "resource="));   /* absent, not empty */
    CU_ASSERT_TRUE(strlen(m) > 16 && !strcmp(m + strlen(m) - 16, "] deny forbidden"));
    free(m);
    mcpauth_close(deny);

    mcpauth *allow = open_stack("allow", "ok", cfg, &err);
    free(receive(fd, 0));               /* policy.loaded */
    check(allow, "read");
    m = receive(fd, 0);                 /* authpriv.info: 10*8+6 */
    CU_ASSERT_PTR_NOT_NULL(m && !strncmp(m, "<86>1 ", 6));
    expect_has(m, "allowed=\"true\" reason=\"ok\"");
    expect_has(m, "] allow ok");
    free(m);
    mcpauth_close(allow);
    close(fd);
    free(cfg);
    free(sock);
}

static void test_allows_skipped_by_default(void)
{
    char *sock = tu_fmt("%s/quiet.sock", dir);
    int fd = unix_receiver(sock);
    char *cfg = tu_fmt("socket: %s", sock);
    mcpauth_error err;
    mcpauth *allow = open_stack("allow", "ok", cfg, &err);
    mcpauth *deny = open_stack("deny", "ip_denied", cfg, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(allow);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deny);
    free(receive(fd, 0));               /* two policy.loaded */
    free(receive(fd, 0));
    check(allow, "read");
    check(deny, "read");
    char *m = receive(fd, 0);
    expect_has(m, "reason=\"ip_denied\"");
    free(m);
    CU_ASSERT_PTR_NULL(receive(fd, MSG_DONTWAIT));   /* the allow was not sent */
    mcpauth_close(allow);
    mcpauth_close(deny);
    close(fd);
    free(cfg);
    free(sock);
}

static void test_udp_events_and_escaping(void)
{
    int port;
    int fd = udp_receiver(&port);
    char *cfg = tu_fmt("server: \"127.0.0.1:%d\", facility: local3", port);
    mcpauth_error err;
    mcpauth *a = open_stack("deny", "expired", cfg, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    char *m = receive(fd, 0);          /* local3.notice: 19*8+5 */
    CU_ASSERT_PTR_NOT_NULL(m && !strncmp(m, "<157>1 ", 7));
    expect_has(m, " mcpauth ");        /* the default ident */
    free(m);

    check(a, "a\"b]c\\d\ne\xff");
    m = receive(fd, 0);
    CU_ASSERT_PTR_NOT_NULL(m && !strncmp(m, "<156>1 ", 7));
    expect_has(m, " tool=\"a\\\"b\\]c\\\\d\xef\xbf\xbd" "e\xef\xbf\xbd\" ");
    CU_ASSERT_PTR_NULL(strchr(m, '\n'));
    free(m);
    m = receive(fd, 0);                /* expired: a key.expired event too */
    expect_has(m, " key.expired [mcpauth@32473 key_id=\"k1\" key_name=\"alice\"");
    free(m);

    mcpauth_notify(a, "key.revoked", "k9", "ci", "deployer", "revoked by test");
    m = receive(fd, 0);
    CU_ASSERT_PTR_NOT_NULL(m && !strncmp(m, "<157>1 ", 7));
    expect_has(m, " key.revoked [mcpauth@32473 key_id=\"k9\" key_name=\"ci\" "
                  "role=\"deployer\" detail=\"revoked by test\"] key.revoked");
    free(m);
    mcpauth_close(a);
    close(fd);
    free(cfg);
}

static void test_absent_socket_reported_once(void)
{
    char *cfg = tu_fmt("socket: %s/nobody-listens.sock", dir);
    mcpauth_error err;
    log_errors = 0;
    mcpauth *a = open_stack("deny", "forbidden", cfg, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    for (int i = 0; i < 5; i++)
        check(a, "x");
    mcpauth_close(a);
    CU_ASSERT_EQUAL(log_errors, 1);
    free(cfg);
}

static void test_config_errors(void)
{
    const char *bad[] = { "socket: /dev/log, server: \"127.0.0.1:514\"",
                          "facility: nowhere", "server: nohostport",
                          "log_allows: perhaps", "colour: red" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mcpauth_error err;
        mcpauth *a = open_stack("allow", "ok", bad[i], &err);
        CU_ASSERT_PTR_NULL(a);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "policy.yaml:"));
        mcpauth_close(a);
    }
}

static int add_suites(void)
{
    CU_pSuite s = CU_add_suite("audit-syslog", setup, teardown);
    if (!s)
        return -1;
    CU_add_test(s, "unix socket: deny and allow", test_unix_deny_and_allow);
    CU_add_test(s, "allows skipped by default", test_allows_skipped_by_default);
    CU_add_test(s, "udp: events and escaping", test_udp_events_and_escaping);
    CU_add_test(s, "absent socket reported once", test_absent_socket_reported_once);
    CU_add_test(s, "config errors", test_config_errors);
    return 0;
}

int main(void)
{
    return tu_main(add_suites);
}
