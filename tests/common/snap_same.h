/* snap_same.h: whether two key store snapshots hold the same records in
 * the same order, every field and hash alike, and find every id at the
 * same place. For the tests and the fuzz target that hold a store loaded
 * in pieces against the same file loaded whole. */
#ifndef MCPAUTH_SNAP_SAME_H
#define MCPAUTH_SNAP_SAME_H

#include <string.h>

#include "keystore.h"

static int ss_str_same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static int ss_list_same(const char *const *a, const char *const *b)
{
    if (!a || !b)
        return a == b;
    for (; *a && *b; a++, b++)
        if (strcmp(*a, *b))
            return 0;
    return !*a && !*b;
}

static int ss_key_same(const mcpauth_key_info *a, const mcpauth_key_info *b)
{
    return ss_str_same(a->id, b->id) && ss_str_same(a->name, b->name) &&
           ss_str_same(a->role, b->role) && ss_str_same(a->type, b->type) &&
           ss_list_same(a->allowed_ips, b->allowed_ips) &&
           ss_list_same(a->allowed_tools, b->allowed_tools) &&
           a->created_ms == b->created_ms && a->expires_ms == b->expires_ms &&
           a->revoked_ms == b->revoked_ms && a->grace_until_ms == b->grace_until_ms;
}

static inline int snap_same(const mcpauth__snap *a, const mcpauth__snap *b)
{
    if (a->count != b->count || strcmp(a->prefix, b->prefix))
        return 0;
    for (size_t k = 0; k < a->count; k++)
        if (!ss_key_same(&a->keys[k], &b->keys[k]) ||
            memcmp(&a->hashes[k], &b->hashes[k], sizeof(a->hashes[k])) ||
            mcpauth__snap_find(b, a->keys[k].id) != (long)k)
            return 0;
    return 1;
}

#endif
