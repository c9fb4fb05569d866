/* stack.h: one loaded generation of a policy: plugin instances in order,
 * and the evaluator that runs a request through them. */
#ifndef MCPAUTH_STACK_H
#define MCPAUTH_STACK_H

#include <pthread.h>

#include "loader.h"

typedef struct mcpauth_instance {
    char *label;
    size_t label_len; /* strlen(label), for the copy into each decision */
    mcpauth_control control;
    mcpauth_loaded lib;
    void *state;
    int created;
} mcpauth_instance;

typedef struct mcpauth_stack {
    mcpauth_instance *e;
    size_t n;
    size_t *observers;   /* indexes of the entries with an observe hook */
    size_t nobservers;
    size_t ntimed;       /* observers that read latency_ns (no
                          * MCPAUTH_PLUGIN_UNTIMED_OBSERVE) */
    size_t nclocked;     /* entries that read now_ms (no
                          * MCPAUTH_PLUGIN_NO_CLOCK) */
    size_t *preparers;   /* indexes of the entries with a prepare hook */
    size_t npreparers;
    uint64_t max_request_bytes;
    mcpauth_log_fn log;
    void *log_arg;
    /* emit may come from plugin threads (the key store watcher): it holds
     * this for reading; destruction takes it for writing to shut emits out. */
    pthread_rwlock_t emit_lock;
    int ready;   /* every instance created: emits are delivered */
    int closing; /* being destroyed: emits are dropped */
} mcpauth_stack;

mcpauth_status mcpauth__stack_build(const mcpauth_policy_spec *spec,
                                    mcpauth_log_fn log, void *log_arg,
                                    mcpauth_stack **out, mcpauth_error *err);
void mcpauth__stack_free(mcpauth_stack *s);

/* Run req through s. t0 is the caller's monotonic clock reading at the
 * start of the check (mcpauth__mono_ns), from which latency_ns counts, or
 * 0 when the check is not timed (see mcpauth__stack_timed): the caller
 * has read the clock already, and a read is not free. */
mcpauth_status mcpauth__stack_check(mcpauth_stack *s, const mcpauth_request *req,
                                    unsigned flags, mcpauth_decision *out,
                                    mcpauth_trace_entry *trace, size_t cap,
                                    size_t *ntrace, uint64_t t0);

/* Does a check with these flags and trace need latency_ns measured? */
static inline int mcpauth__stack_timed(const mcpauth_stack *s, unsigned flags,
                                       const mcpauth_trace_entry *trace)
{
    return s->ntimed || trace || (flags & MCPAUTH_CHECK_TIMED);
}

/* Deliver an event to every instance's event hook. */
void mcpauth__stack_emit(mcpauth_stack *s, const mcpauth_event *ev);

/* Fill a deny decision without running anything (no stack, bad request). */
void mcpauth__decision_fail(mcpauth_decision *out, mcpauth_reason reason,
                            const char *plugin, const char *message);

#endif
