/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/replay.c: a main for any libFuzzer harness, so that its
 * seeds run as an ordinary test in every build (gcc, sanitizers) without
 * libFuzzer. Each argument is a file or a directory; every regular file
 * of a directory (not recursing, in name order) is read and passed to
 * LLVMFuzzerTestOneInput once. A broken invariant aborts in the harness,
 * which fails the test. Exits 1 when an argument cannot be read or when
 * there was no input at all (a mistyped seed folder must not pass).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read the file at path whole and run the harness on it; 0 or -1. */
static int
replay_file(const char *path)
{
	FILE   *f = fopen(path, "rb");
	uint8_t buf[1 << 16];
	size_t  n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f) || !feof(f)) {
		fprintf(stderr, "%s: unreadable or over %zu bytes\n", path,
		    sizeof(buf) - 1);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

/* Run every regular file of dir; adds them to *count. 0 or -1. */
static int
replay_dir(const char *dir, size_t *count)
{
	struct dirent **names;
	int             n, rv = 0;

	if ((n = scandir(dir, &names, NULL, alphasort)) < 0) {
		perror(dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char        path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			rv |= replay_file(path);
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rv;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	int    rv    = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			rv = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rv |= replay_dir(argv[i], &count);
		} else {
			rv |= replay_file(argv[i]);
			count++;
		}
	}
	printf("replayed %zu inputs\n", count);
	return rv == 0 && count > 0 ? 0 : 1;
}
