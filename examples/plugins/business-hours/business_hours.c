/*
 * business_hours.c: an mcpauth plugin built outside mcpauth's tree. It
 * denies write tools outside business hours and abstains on everything else,
 * so it only ever narrows what the rest of the stack allows.
 *
 *   - plugin: ./mcpauth_business-hours.so
 *     control: required
 *     config:
 *       open: "08:00"                 # local time, inclusive
 *       close: "18:00"                # exclusive; close < open spans midnight
 *       timezone_offset: "+01:00"     # local time = UTC + offset ("Z" for UTC)
 *       days: [mon, tue, wed, thu, fri]
 *       write_tools: ["set_*"]        # glob patterns (fnmatch)
 *
 * The time is the request's now_ms, which the core fills with the wall clock
 * or with the time a test injects (`mcpauth check --now`).
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcpauth/plugin.h>

#define BH_MINUTES_PER_DAY 1440
#define BH_MS_PER_MINUTE 60000LL

typedef struct bh_state {
    int open_min, close_min;  /* minutes after local midnight */
    int offset_min;           /* local = UTC + offset */
    unsigned days;            /* bit 0 Sunday .. bit 6 Saturday */
    char **write_tools;       /* NULL-terminated */
    char message[160];        /* what a denied client reads */
} bh_state;

static const char *const bh_day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static void bh_destroy(void *state)
{
    bh_state *s = state;
    if (!s)
        return;
    for (size_t i = 0; s->write_tools && s->write_tools[i]; i++)
        free(s->write_tools[i]);
    free(s->write_tools);
    free(s);
}

/* "HH:MM" with 00 <= HH <= 24 (24:00 only as a closing time) into minutes. */
static int bh_parse_clock(const char *t, int *out)
{
    if (strlen(t) != 5 || t[2] != ':' || !isdigit((unsigned char)t[0]) ||
        !isdigit((unsigned char)t[1]) || !isdigit((unsigned char)t[3]) ||
        !isdigit((unsigned char)t[4]))
        return -1;
    int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    *out = h * 60 + m;
    return 0;
}

/* "Z", "+HH:MM" or "-HH:MM" into minutes. */
static int bh_parse_offset(const char *text, int *out)
{
    int m;
    if (strcmp(text, "Z") == 0 || strcmp(text, "UTC") == 0) {
        *out = 0;
        return 0;
    }
    if ((text[0] != '+' && text[0] != '-') || bh_parse_clock(text + 1, &m) != 0 || m > 14 * 60)
        return -1;
    *out = text[0] == '-' ? -m : m;
    return 0;
}

/* A clock or offset setting: absent leaves *out alone. */
static mcpauth_status bh_read_time(const mcpauth_services *svc, const mcpauth_config *c,
                                   const char *key, int offset, int *out)
{
    const char *v = NULL;
    mcpauth_status st = svc->config_string(c, key, &v);
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    if ((offset ? bh_parse_offset(v, out) : bh_parse_clock(v, out)) != 0) {
        svc->config_error(c, key, "'%s' is not %s", v,
                          offset ? "an offset like \"+01:00\", \"-05:30\" or \"Z\""
                                 : "a time like \"08:00\"");
        return MCPAUTH_EPOLICY;
    }
    return MCPAUTH_OK;
}

static mcpauth_status bh_read_days(const mcpauth_services *svc, const mcpauth_config *c,
                                   unsigned *out)
{
    const char *const *list;
    size_t n;
    mcpauth_status st = svc->config_strings(c, "days", &list, &n);
    if (st == MCPAUTH_ENOTFOUND)
        return MCPAUTH_OK;
    if (st != MCPAUTH_OK)
        return MCPAUTH_EPOLICY;
    *out = 0;
    for (size_t i = 0; i < n; i++) {
        size_t d = 0;
        while (d < 7 && strcmp(list[i], bh_day_names[d]) != 0)
            d++;
        if (d == 7) {
            svc->config_error(c, "days", "'%s' is not one of sun, mon, tue, wed, thu, fri, sat",
                              list[i]);
            return MCPAUTH_EPOLICY;
        }
        *out |= 1u << d;
    }
    return MCPAUTH_OK;
}

static mcpauth_status bh_read_tools(const mcpauth_services *svc, const mcpauth_config *c,
                                    bh_state *s)
{
    static const char *const fallback[] = { "set_*", NULL };
    const char *const *list = fallback;
    size_t n = 1;
    mcpauth_status st = svc->config_strings(c, "write_tools", &list, &n);
    if (st == MCPAUTH_ENOTFOUND) {
        list = fallback;
        n = 1;
    } else if (st != MCPAUTH_OK) {
        return MCPAUTH_EPOLICY;
    }
    s->write_tools = calloc(n + 1, sizeof(char *));
    if (!s->write_tools)
        return MCPAUTH_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(s->write_tools[i] = strdup(list[i])))
            return MCPAUTH_ENOMEM;
    return MCPAUTH_OK;
}

static mcpauth_status bh_create(void **state, const mcpauth_plugin_env *env,
                                const mcpauth_config *config)
{
    const mcpauth_services *svc = env->svc;
    bh_state *s = calloc(1, sizeof *s);
    mcpauth_status st = MCPAUTH_ENOMEM;
    if (!s)
        goto out;
    s->open_min = 9 * 60;
    s->close_min = 17 * 60;
    s->days = 0x7f;
    if ((st = bh_read_time(svc, config, "open", 0, &s->open_min)) != MCPAUTH_OK ||
        (st = bh_read_time(svc, config, "close", 0, &s->close_min)) != MCPAUTH_OK ||
        (st = bh_read_time(svc, config, "timezone_offset", 1, &s->offset_min)) != MCPAUTH_OK ||
        (st = bh_read_days(svc, config, &s->days)) != MCPAUTH_OK ||
        (st = bh_read_tools(svc, config, s)) != MCPAUTH_OK)
        goto out;
    if (s->open_min == s->close_min) {
        svc->config_error(config, "close", "equals 'open': the window would be empty");
        st = MCPAUTH_EPOLICY;
        goto out;
    }
    snprintf(s->message, sizeof s->message,
             "write tools are available only in business hours (%02d:%02d-%02d:%02d, UTC%c%02d:%02d)",
             s->open_min / 60, s->open_min % 60, s->close_min / 60, s->close_min % 60,
             s->offset_min < 0 ? '-' : '+', abs(s->offset_min) / 60, abs(s->offset_min) % 60);
out:
    if (st != MCPAUTH_OK) {
        bh_destroy(s);
        s = NULL;
    }
    *state = s;
    return st;
}

static int bh_is_write_tool(const bh_state *s, const char *tool)
{
    for (size_t i = 0; tool && s->write_tools[i]; i++)
        if (fnmatch(s->write_tools[i], tool, 0) == 0)
            return 1;
    return 0;
}

/* Is local time `now_ms` (UTC + offset) inside the window on an open day?
 * A window that closes before it opens runs over midnight and belongs to
 * the day it opened. */
static int bh_is_open(const bh_state *s, int64_t now_ms)
{
    int64_t local_min = now_ms / BH_MS_PER_MINUTE + s->offset_min;
    int64_t day = local_min >= 0 ? local_min / BH_MINUTES_PER_DAY
                                 : -((-local_min + BH_MINUTES_PER_DAY - 1) / BH_MINUTES_PER_DAY);
    int minute = (int)(local_min - day * BH_MINUTES_PER_DAY);
    if (s->close_min < s->open_min && minute < s->close_min)
        day--;   /* the small hours belong to yesterday's window */
    int weekday = (int)(((day + 4) % 7 + 7) % 7);   /* 1970-01-01 was a Thursday */
    int in_window = s->open_min < s->close_min
                        ? minute >= s->open_min && minute < s->close_min
                        : minute >= s->open_min || minute < s->close_min;
    return in_window && (s->days & (1u << weekday));
}

static mcpauth_status bh_vote(void *state, mcpauth_ctx *ctx, const mcpauth_request *req,
                              mcpauth_vote_result *out)
{
    const bh_state *s = state;
    (void)ctx;
    if (!req->method || strcmp(req->method, "tools/call") != 0 || !bh_is_write_tool(s, req->tool))
        return MCPAUTH_OK;   /* not a write tool: abstain */
    if (bh_is_open(s, req->now_ms))
        return MCPAUTH_OK;   /* open: abstain, the rest of the stack decides */
    out->vote = MCPAUTH_VOTE_DENY;
    out->reason = MCPAUTH_REASON_FORBIDDEN;
    out->message = s->message;
    out->detail = "write tool outside business hours";
    return MCPAUTH_OK;
}

static const mcpauth_plugin bh_plugin = {
    MCPAUTH_PLUGIN_ABI_VERSION, sizeof(mcpauth_plugin), "business-hours",
    "denies write tools outside configured business hours", bh_create, bh_vote, NULL, NULL,
    bh_destroy, 0 /* flags */,
    NULL, /* prepare */
};

MCPAUTH_PLUGIN_DEFINE(bh_plugin)
