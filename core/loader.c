/* loader.c: plugin search path, permission checks, dlopen and the ABI check.
 *
 * Search order for a plugin given by name: the policy's plugin_dirs, then
 * MCPAUTH_PLUGIN_PATH (colon-separated), then <dir of libmcpauth>/mcpauth
 * (the build tree's build/lib/mcpauth), then the configured install dir. */
#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef MCPAUTH_PLUGIN_INSTALL_DIR
#define MCPAUTH_PLUGIN_INSTALL_DIR "/usr/local/lib/mcpauth"
#endif

#define LOADER_MAX_DIRS 64

typedef struct search_path {
    char *dirs[LOADER_MAX_DIRS];
    size_t n;
    size_t dropped;  /* directories past LOADER_MAX_DIRS, not searched */
} search_path;

static void sp_add(search_path *sp, char *dir)
{
    if (dir && sp->n < LOADER_MAX_DIRS) {
        sp->dirs[sp->n++] = dir;
        return;
    }
    if (dir)
        sp->dropped++;
    free(dir);
}

static char *library_plugin_dir(void)
{
    Dl_info info;
    if (!dladdr((void *)mcpauth__plugin_load, &info) || !info.dli_fname)
        return NULL;
    char *dir = mcpauth__dirname(info.dli_fname);
    char *p = dir ? mcpauth__path_join(dir, "mcpauth") : NULL;
    free(dir);
    return p;
}

static void sp_build(search_path *sp, const mcpauth_policy_spec *p)
{
    for (size_t i = 0; i < p->ndirs; i++)
        sp_add(sp, mcpauth__strdup(p->plugin_dirs[i]));
    const char *env = getenv("MCPAUTH_PLUGIN_PATH");
    if (env && *env) {
        char *copy = mcpauth__strdup(env), *save = NULL;
        for (char *t = copy ? strtok_r(copy, ":", &save) : NULL; t;
             t = strtok_r(NULL, ":", &save))
            sp_add(sp, mcpauth__strdup(t));
        free(copy);
    }
    sp_add(sp, library_plugin_dir());
    sp_add(sp, mcpauth__strdup(MCPAUTH_PLUGIN_INSTALL_DIR));
}

static void sp_free(search_path *sp)
{
    for (size_t i = 0; i < sp->n; i++)
        free(sp->dirs[i]);
}

static int is_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 3 && !strcmp(s + n - 3, ".so"));
}

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static mcpauth_status entry_err(mcpauth_error *err, mcpauth_status st,
                                const mcpauth_entry_spec *e, const char *fmt,
                                const char *a, const char *b)
{
    char msg[900];
    snprintf(msg, sizeof(msg), fmt, a, b);
    return mcpauth__err(err, st, "%s:%zu:%zu: plugin '%s': %s",
                        mcpauth__cfg_file(e->doc), e->at->line, e->at->col,
                        e->plugin, msg);
}

/* The directories searched, for the not-found message: as many as fit in
 * buf, then how many more there were, so a long path is never cut short
 * without saying so. */
static void sp_describe(const search_path *sp, char *buf, size_t cap)
{
    size_t used = 0, i = 0;
    buf[0] = '\0';
    for (; i < sp->n; i++) {
        /* Keep room for the tail unless this is the last thing to print. */
        size_t tail = i + 1 < sp->n || sp->dropped ? 80 : 1;
        size_t need = strlen(sp->dirs[i]) + (i ? 2 : 0);
        if (used + need + tail > cap)
            break;
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", sp->dirs[i]);
    }
    if (i < sp->n)
        used += (size_t)snprintf(buf + used, cap - used, "%s... and %zu more", i ? ", " : "",
                                 sp->n - i);
    if (sp->dropped)
        snprintf(buf + used, cap - used, "; not searched: %zu more past the first %d",
                 sp->dropped, LOADER_MAX_DIRS);
}

/* Find the file: a path as written, or a name along the search path. */
static mcpauth_status resolve(const mcpauth_policy_spec *p,
                              const mcpauth_entry_spec *e, char **out,
                              mcpauth_error *err)
{
    if (is_path(e->plugin)) {
        *out = mcpauth__path_join(mcpauth__cfg_dir(e->doc), e->plugin);
        if (*out && access(*out, F_OK) == 0)
            return MCPAUTH_OK;
        mcpauth_status st = entry_err(err, MCPAUTH_EPOLICY, e, "%s: %s",
                                      *out ? *out : e->plugin, strerror(errno));
        free(*out);
        *out = NULL;
        return st;
    }
    if (!valid_name(e->plugin))
        return entry_err(err, MCPAUTH_EPOLICY, e,
                         "a plugin name may hold only letters, digits, '_' and '-'%s%s", "", "");
    search_path sp = { .n = 0 };
    sp_build(&sp, p);
    for (size_t i = 0; i < sp.n; i++) {
        char file[4096];
        snprintf(file, sizeof(file), "%s/mcpauth_%s.so", sp.dirs[i], e->plugin);
        if (access(file, F_OK) == 0) {
            *out = mcpauth__strdup(file);
            sp_free(&sp);
            return *out ? MCPAUTH_OK : MCPAUTH_ENOMEM;
        }
    }
    char searched[700];
    sp_describe(&sp, searched, sizeof(searched));
    sp_free(&sp);
    return entry_err(err, MCPAUTH_EPOLICY, e, "not found (looked for mcpauth_%s.so in: %s)",
                     e->plugin, searched);
}

/* sshd's rule for files it trusts: owned by root or by us, and nobody else
 * may write the file or the directory that holds it. */
static mcpauth_status check_trust(const mcpauth_entry_spec *e, const char *path,
                                  mcpauth_error *err)
{
    char *dir = mcpauth__dirname(path);
    const char *what[2] = { path, dir };
    mcpauth_status st = MCPAUTH_OK;
    for (int i = 0; i < 2 && st == MCPAUTH_OK; i++) {
        struct stat s;
        if (!what[i] || stat(what[i], &s) != 0) {
            st = entry_err(err, MCPAUTH_EPOLICY, e, "%s: %s", what[i] ? what[i] : path,
                           strerror(errno));
        } else if ((s.st_mode & (S_IWGRP | S_IWOTH)) ||
                   (s.st_uid != 0 && s.st_uid != geteuid())) {
            char mode[64];
            snprintf(mode, sizeof(mode), "%04o, owner uid %u",
                     (unsigned)(s.st_mode & 07777), (unsigned)s.st_uid);
            st = entry_err(err, MCPAUTH_EPERM, e,
                           "refusing %s: others may write it or it is not ours (mode %s)",
                           what[i], mode);
        }
    }
    free(dir);
    return st;
}

static mcpauth_status check_abi(const mcpauth_entry_spec *e, const char *path,
                                const mcpauth_plugin *d, mcpauth_error *err)
{
    char a[96], b[32];
    if (!d)
        return entry_err(err, MCPAUTH_EPOLICY, e, "%s: its entry point returned no descriptor%s",
                         path, "");
    if (d->abi_version != MCPAUTH_PLUGIN_ABI_VERSION) {
        snprintf(a, sizeof(a), "%s: built for plugin ABI version %u", path, d->abi_version);
        snprintf(b, sizeof(b), "%u", MCPAUTH_PLUGIN_ABI_VERSION);
        return entry_err(err, MCPAUTH_EPOLICY, e,
                         "%s, this library speaks version %s: rebuild the plugin", a, b);
    }
    if (d->size < MCPAUTH_PLUGIN_MIN_SIZE)
        return entry_err(err, MCPAUTH_EPOLICY, e,
                         "%s: descriptor too small for this ABI (not binary compatible)%s",
                         path, "");
    if (!d->create || !d->vote || !d->destroy)
        return entry_err(err, MCPAUTH_EPOLICY, e, "%s: descriptor lacks create, vote or destroy%s",
                         path, "");
    return MCPAUTH_OK;
}

/* The device and inode of the file the mapping at `addr` came from, read
 * from /proc/self/maps. Returns 0, or -1 when it cannot tell. */
static int mapped_from(const void *addr, dev_t *dev, ino_t *ino)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[4096];
    int rc = -1;
    uintptr_t a = (uintptr_t)addr;
    while (f && rc != 0 && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi, off, inode;
        unsigned maj, min;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj,
                   &min, &inode) == 7 && a >= lo && a < hi) {
            *dev = makedev(maj, min);
            *ino = (ino_t)inode;
            rc = 0;
        }
    }
    if (f)
        fclose(f);
    return rc;
}

/* dlopen hands back an object that is already loaded under the same name,
 * so after a plugin file is replaced (say, by a package upgrade) a reload
 * would silently go on running the old code. Refuse that instead: the
 * reload fails, the old policy keeps serving, and the message says why. */
static mcpauth_status check_fresh(const mcpauth_entry_spec *e, const char *path,
                                  const mcpauth_plugin *d, mcpauth_error *err)
{
    struct stat st;
    dev_t dev;
    ino_t ino;
    if (stat(path, &st) != 0 || mapped_from(d, &dev, &ino) != 0)
        return MCPAUTH_OK;
    if (st.st_dev == dev && st.st_ino == ino)
        return MCPAUTH_OK;
    return entry_err(err, MCPAUTH_EPOLICY, e,
                     "%s was replaced on disk after this process loaded it, and the old "
                     "code is still in use%s: restart the process to load the new file",
                     path, "");
}

mcpauth_status mcpauth__plugin_load(const mcpauth_policy_spec *p,
                                    const mcpauth_entry_spec *e,
                                    mcpauth_loaded *out, mcpauth_error *err)
{
    memset(out, 0, sizeof(*out));
    mcpauth_status st = resolve(p, e, &out->path, err);
    if (st || (st = check_trust(e, out->path, err)))
        goto fail;
    out->dl = dlopen(out->path, RTLD_NOW | RTLD_LOCAL);
    if (!out->dl) {
        const char *why = dlerror();
        st = entry_err(err, MCPAUTH_EPOLICY, e, "cannot load: %s%s", why ? why : "dlopen failed", "");
        goto fail;
    }
    mcpauth_plugin_entry_fn fn;
    *(void **)&fn = dlsym(out->dl, MCPAUTH_PLUGIN_ENTRY_SYMBOL);
    if (!fn) {
        st = entry_err(err, MCPAUTH_EPOLICY, e, "%s does not export %s: not an mcpauth plugin",
                       out->path, MCPAUTH_PLUGIN_ENTRY_SYMBOL);
        goto fail;
    }
    out->desc = fn();
    if ((st = check_abi(e, out->path, out->desc, err)) ||
        (st = check_fresh(e, out->path, out->desc, err)))
        goto fail;
    return MCPAUTH_OK;
fail:
    mcpauth__plugin_unload(out);
    return st;
}

void mcpauth__plugin_unload(mcpauth_loaded *l)
{
    if (l->dl)
        dlclose(l->dl);
    free(l->path);
    memset(l, 0, sizeof(*l));
}
