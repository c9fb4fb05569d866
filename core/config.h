/* config.h: a YAML file read into a tree of nodes that remember where they
 * came from (file:line:col) and which map keys a reader has consumed, so
 * that unknown keys can be reported instead of silently ignored. */
#ifndef MCPAUTH_CONFIG_H
#define MCPAUTH_CONFIG_H

#include "mcpauth/plugin.h"
#include "util.h"

typedef struct mcpauth_cfgdoc mcpauth_cfgdoc;

struct mcpauth_config {
    mcpauth_config_kind kind;
    char *scalar;            /* SCALAR: text */
    int quoted;              /* SCALAR: was quoted ('..' or "..") */
    size_t line, col;        /* 1-based */
    size_t count;            /* LIST: items; MAP: entries */
    struct mcpauth_config **items;   /* LIST items, or MAP values */
    struct mcpauth_config **keys;    /* MAP keys (scalars) */
    unsigned char *seen;     /* MAP: entry i was read */
    mcpauth_cfgdoc *doc;
};

/* Parse a file (text == NULL) or a string (file names it in messages).
 * On failure returns NULL with err set to "file:line:col: problem". */
mcpauth_cfgdoc *mcpauth__cfg_parse(const char *file, const char *text,
                                   mcpauth_error *err);
void mcpauth__cfg_free(mcpauth_cfgdoc *d);
mcpauth_config *mcpauth__cfg_root(mcpauth_cfgdoc *d);
const char *mcpauth__cfg_file(const mcpauth_cfgdoc *d);
/* The directory relative paths in this document resolve against. */
const char *mcpauth__cfg_dir(const mcpauth_cfgdoc *d);
int mcpauth__cfg_set_dir(mcpauth_cfgdoc *d, const char *dir);

/* Find key in a map node and mark it read; NULL when absent or not a map. */
mcpauth_config *mcpauth__cfg_get(const mcpauth_config *map, const char *key);
/* Report the first map key (recursively) nobody read: returns 0 when all
 * were read, else 1 with err "file:line:col: <what>: unknown key 'k'". */
int mcpauth__cfg_unread(const mcpauth_config *n, const char *what,
                        mcpauth_error *err);
/* The same for n's own keys only. */
int mcpauth__cfg_unread_shallow(const mcpauth_config *n, const char *what,
                                mcpauth_error *err);
/* Mark every key under n as read. */
void mcpauth__cfg_mark_all(mcpauth_config *n);

/* Errors raised by plugins through services->config_error land here. */
void mcpauth__cfg_set_error(mcpauth_cfgdoc *d, const char *label,
                            mcpauth_error *sink);
int mcpauth__cfg_has_error(const mcpauth_cfgdoc *d);
/* Free the per-create scratch (config_strings arrays). */
void mcpauth__cfg_scratch_free(mcpauth_cfgdoc *d);

/* The services table plugins receive. */
extern const mcpauth_services mcpauth__services;

#endif
