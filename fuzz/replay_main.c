/* replay_main.c - runs a fuzz target over files, without libFuzzer.
 *
 * Usage: fuzz_<target>_replay PATH...  Each PATH is a file or a directory (its regular
 * files, not recursively). Every input is fed to LLVMFuzzerTestOneInput once; a bug
 * shows as a crash or a sanitizer report. Prints "replayed N inputs" and exits 0, or 1
 * when a path cannot be read. Built with every compiler, so CTest replays the regression
 * inputs in every build.
 */
#include "fuzz.h"
#include "util/file.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_BYTES ((size_t)16 << 20) /* an input file */
#define REPLAY_PATH_MAX 4096

/* Feeds one file; returns 0, or -1 when it cannot be read. */
static int replay_file(const char *path, size_t *count)
{
    struct myocds_err err = {0};
    size_t len = 0;
    char *data = file_read(path, REPLAY_MAX_BYTES, &len, &err);
    if (data == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, err.msg);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    free(data);
    (*count)++;
    return 0;
}

/* Feeds every regular file of a directory, in no particular order. */
static int replay_dir(const char *dir, size_t *count)
{
    char path[REPLAY_PATH_MAX];
    struct stat st;
    int rc = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", dir);
        return -1;
    }
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (e->d_name[0] == '.' ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_file(path, count) != 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;
    struct stat st;
    for (int i = 1; i < argc; i++) {
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such path %s\n", argv[i]);
            rc = 1;
        } else if (S_ISDIR(st.st_mode) ? replay_dir(argv[i], &count) != 0
                                       : replay_file(argv[i], &count) != 0) {
            rc = 1;
        }
    }
    printf("replayed %zu inputs\n", count);
    return rc;
}
