/* policy.h: a policy file read into a flat list of stack entries, with
 * includes spliced in. Nothing is loaded yet: see loader.c and stack.c. */
#ifndef MCPAUTH_POLICY_H
#define MCPAUTH_POLICY_H

#include "config.h"

typedef struct mcpauth_entry_spec {
    char *label;             /* name: or the plugin name */
    mcpauth_control control;
    char *plugin;            /* as written: a name or a path */
    const mcpauth_config *config;  /* the entry's config map */
    const mcpauth_config *at;      /* the `plugin:` value, for messages */
    mcpauth_cfgdoc *doc;     /* the file it came from */
} mcpauth_entry_spec;

typedef struct mcpauth_policy_spec {
    mcpauth_cfgdoc **docs;   /* the top file and every include */
    size_t ndocs;
    char **plugin_dirs;      /* resolved against the policy's directory */
    size_t ndirs;
    uint64_t max_request_bytes;  /* 0: no limit */
    mcpauth_entry_spec *entries;
    size_t n;
    mcpauth_config *empty;   /* shared empty config map */
} mcpauth_policy_spec;

/* Read `path` (or `yaml`, with relative paths against base_dir). */
mcpauth_status mcpauth__policy_parse(const char *path, const char *yaml,
                                     const char *base_dir,
                                     mcpauth_policy_spec **out,
                                     mcpauth_error *err);
void mcpauth__policy_free(mcpauth_policy_spec *p);

/* "required" -> MCPAUTH_CONTROL_REQUIRED; -1 when unknown. */
int mcpauth__control_parse(const char *s);

#endif
