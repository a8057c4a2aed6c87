/* outfile.h - crash-safe output files: write to a temporary name beside the
 * target, then fsync and rename over it, so a reader never sees a half-written
 * file under the final name.
 *
 * Temporary names are registered in a small process-wide table; the command
 * layer's signal handler calls upf_tmp_remove_all() (async-signal-safe) so a
 * Ctrl-C or a crash leaves no stray temporaries either. Writers that do not go
 * through FILE (HDF5) use upf_tmp_name + upf_tmp_register + upf_commit_rename.
 */
#ifndef UPF_OUTFILE_H
#define UPF_OUTFILE_H

#include <stdio.h>

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct upf_outfile {
    FILE *f;     /* write here; owned until commit/abort */
    char *path;  /* final name (owned) */
    char *tmp;   /* temporary name (owned) */
} upf_outfile;

/* Opens "<dir>/.<base>.tmp-<pid>" for writing ("wb"). On failure o is zeroed. */
upf_status upf_outfile_open(upf_outfile *o, const char *path, upf_err *err);
/* Flushes, fsyncs, closes and renames onto the final name; any write error
 * seen on the way (disk full) fails the commit and removes the temporary. */
upf_status upf_outfile_commit(upf_outfile *o, upf_err *err);
/* Closes and removes the temporary. Safe on a zeroed or committed outfile. */
void upf_outfile_abort(upf_outfile *o);

/* Writes a whole buffer to path atomically. */
upf_status upf_write_file_atomic(const char *path, const void *data, size_t n, upf_err *err);

/* The temporary name for path (owned by the caller), as upf_outfile uses. */
char *upf_tmp_name(const char *path);
/* fsync(tmp), rename(tmp, path), fsync the directory, unregister tmp. On failure
 * tmp is removed. */
upf_status upf_commit_rename(const char *tmp, const char *path, upf_err *err);

/* Registry of temporaries to remove on abnormal exit (at most 32 at once,
 * paths under 4096 bytes; registering more fails with -1 and is harmless). */
int upf_tmp_register(const char *tmp);
void upf_tmp_unregister(const char *tmp);
/* Removes every registered temporary; async-signal-safe (unlink only). */
void upf_tmp_remove_all(void);

#ifdef __cplusplus
}
#endif
#endif
