/* outfile.c - temporary-then-rename output and the registry of temporaries. */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SLOTS 32
#define TMP_PATH_MAX 4096

/* Slots are claimed with a flag written last, so a signal handler that runs
 * mid-registration sees either a complete path or an empty slot. */
static char tmp_paths[TMP_SLOTS][TMP_PATH_MAX];
static volatile sig_atomic_t tmp_used[TMP_SLOTS];

int upf_tmp_register(const char *tmp)
{
    size_t n = strlen(tmp);
    if (n >= TMP_PATH_MAX) return -1;
    for (int i = 0; i < TMP_SLOTS; i++)
        if (!tmp_used[i]) {
            memcpy(tmp_paths[i], tmp, n + 1);
            tmp_used[i] = 1;
            return 0;
        }
    return -1;
}

void upf_tmp_unregister(const char *tmp)
{
    for (int i = 0; i < TMP_SLOTS; i++)
        if (tmp_used[i] && strcmp(tmp_paths[i], tmp) == 0) {
            tmp_used[i] = 0;
            return;
        }
}

void upf_tmp_remove_all(void)
{
    for (int i = 0; i < TMP_SLOTS; i++)
        if (tmp_used[i]) {
            unlink(tmp_paths[i]);
            tmp_used[i] = 0;
        }
}

char *upf_tmp_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dir_len;
    size_t n = strlen(path) + 32;
    char *t = upf_malloc(n);
    if (!t) return NULL;
    snprintf(t, n, "%.*s.%s.tmp-%ld", (int)dir_len, path, base, (long)getpid());
    return t;
}

static void fsync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[TMP_PATH_MAX];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some filesystems refuse fsync on directories */
        close(fd);
    }
}

upf_status upf_commit_rename(const char *tmp, const char *path, upf_err *err)
{
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        upf_status st = upf_err_sys(err, UPF_ERR_IO, "%s: fsync of the temporary file failed", path);
        if (fd >= 0) close(fd);
        unlink(tmp);
        upf_tmp_unregister(tmp);
        return st;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        upf_status st = upf_err_sys(err, UPF_ERR_IO, "%s: rename from %s failed", path, tmp);
        unlink(tmp);
        upf_tmp_unregister(tmp);
        return st;
    }
    upf_tmp_unregister(tmp);
    fsync_dir_of(path);
    return UPF_OK;
}

upf_status upf_outfile_open(upf_outfile *o, const char *path, upf_err *err)
{
    memset(o, 0, sizeof *o);
    o->path = upf_strdup(path);
    o->tmp = upf_tmp_name(path);
    if (!o->path || !o->tmp) {
        upf_free(o->path);
        upf_free(o->tmp);
        memset(o, 0, sizeof *o);
        return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
    }
    upf_tmp_register(o->tmp);
    o->f = fopen(o->tmp, "wb");
    if (!o->f) {
        upf_status st = upf_err_sys(err, UPF_ERR_IO, "%s: cannot create %s", path, o->tmp);
        upf_tmp_unregister(o->tmp);
        upf_free(o->path);
        upf_free(o->tmp);
        memset(o, 0, sizeof *o);
        return st;
    }
    return UPF_OK;
}

upf_status upf_outfile_commit(upf_outfile *o, upf_err *err)
{
    upf_status st = UPF_OK;
    if (!o->f) return upf_err_set(err, UPF_ERR_ARG, "outfile: commit without open");
    int bad = ferror(o->f) || fflush(o->f) != 0;
    int saved = errno;
    if (fclose(o->f) != 0) bad = 1, saved = errno;
    o->f = NULL;
    if (bad) {
        errno = saved;
        st = upf_err_sys(err, UPF_ERR_IO, "%s: write failed (disk full?)", o->path);
        unlink(o->tmp);
        upf_tmp_unregister(o->tmp);
    } else {
        st = upf_commit_rename(o->tmp, o->path, err);
    }
    upf_free(o->path);
    upf_free(o->tmp);
    memset(o, 0, sizeof *o);
    return st;
}

void upf_outfile_abort(upf_outfile *o)
{
    if (o->f) fclose(o->f);
    if (o->tmp) {
        unlink(o->tmp);
        upf_tmp_unregister(o->tmp);
    }
    upf_free(o->path);
    upf_free(o->tmp);
    memset(o, 0, sizeof *o);
}

upf_status upf_write_file_atomic(const char *path, const void *data, size_t n, upf_err *err)
{
    upf_outfile o;
    upf_status st = upf_outfile_open(&o, path, err);
    if (st) return st;
    if (n && fwrite(data, 1, n, o.f) != n) {
        st = upf_err_sys(err, UPF_ERR_IO, "%s: write failed", path);
        upf_outfile_abort(&o);
        return st;
    }
    return upf_outfile_commit(&o, err);
}
