/* role.h: the role plugin's compiled policy, shared by the config reader
 * (role_config.c) and the plugin entry points (role.c). */
#ifndef MCPAUTH_ROLE_H
#define MCPAUTH_ROLE_H

#include <stdint.h>

#include "mcpauth/plugin.h"
#include "patset.h"

/* What a pattern list applies to. */
enum { ROLE_METHODS = 0, ROLE_TOOLS = 1, ROLE_RESOURCES = 2, ROLE_NKINDS = 3 };

/* Key types a role may be held by, as a bit mask. */
#define ROLE_KEY_LIVE 0x1u
#define ROLE_KEY_TEST 0x2u
#define ROLE_KEY_ANY (ROLE_KEY_LIVE | ROLE_KEY_TEST)

/* One role with its inheritance already flattened in: allow and deny sets
 * hold its own patterns and every ancestor's. */
typedef struct role_compiled {
    char *name;
    role_patset allow[ROLE_NKINDS];
    role_patset deny[ROLE_NKINDS];
    unsigned key_types;   /* ROLE_KEY_* mask; ROLE_KEY_ANY when unrestricted */
    uint64_t max_bytes;   /* 0: no limit of its own or its ancestors' */
} role_compiled;

/* Every role the instance knows, sorted by name. Read-only after create. */
typedef struct role_table {
    role_compiled *roles;
    size_t nroles;
    char *pool;           /* every pattern text once; the sets point here */
} role_table;

/* Read the plugin config (roles, read_only_tools, device_tools), merge it
 * with the predefined roles and compile. On a config error, report it via
 * svc->config_error and return MCPAUTH_EPOLICY. */
mcpauth_status role_table_build(role_table *t, const mcpauth_services *svc,
                                const mcpauth_config *config);

/* The role called `name`, or NULL. Binary search; no allocation. */
const role_compiled *role_table_find(const role_table *t, const char *name);

/* The ROLE_KEY_* bit for a key type name, or 0 for an unknown one. */
unsigned role_key_type_bit(const char *key_type);

void role_table_free(role_table *t);

#endif
