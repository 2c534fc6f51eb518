/* The floor under a writable mimic: the system calls that putting back the
 * entries of a directory under a tmpfs cannot do without, timed on their
 * own, with nothing of snap-update-ns around them.
 *
 *   mimic-floor DIR SCRATCH RUNS
 *
 * Each run: DIR bound (recursively, made private) on SCRATCH/aside, a tmpfs
 * on SCRATCH/over, then every entry of DIR put back in the tmpfs: a
 * directory made with mkdirat and bound recursively, a file made with an
 * O_CREAT open and bound, a symlink read and made again; each bind from
 * two O_PATH|O_NOFOLLOW descriptors, through /proc/self/fd, as
 * snap-update-ns mounts. The aside copy is detached and the tmpfs
 * unmounted after the clock stops. Prints the median of RUNS in
 * milliseconds and per entry in microseconds. Run it as root in a private
 * mount namespace (bench/mount-profile.sh does).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void bind_fds(int src, int dst, unsigned long flags)
{
	char s[64], d[64];
	snprintf(s, sizeof s, "/proc/self/fd/%d", src);
	snprintf(d, sizeof d, "/proc/self/fd/%d", dst);
	if (mount(s, d, NULL, MS_BIND | flags, NULL))
		die("bind");
}

/* One mimic; returns the number of entries put back. */
static int mimic(const char *dir, const char *aside, const char *over)
{
	if (mount(dir, aside, NULL, MS_BIND | MS_REC, NULL) || mount(NULL, aside, NULL, MS_REC | MS_PRIVATE, NULL))
		die("set aside");
	if (mount("tmpfs", over, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"))
		die("tmpfs");
	int a = open(aside, O_RDONLY | O_DIRECTORY | O_CLOEXEC), o = open(over, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (a < 0 || o < 0)
		die("open");
	DIR *d = fdopendir(dup(a));
	if (!d)
		die("fdopendir");
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		unsigned long rec = 0;
		if (e->d_type == DT_DIR) {
			if (mkdirat(o, name, 0755))
				die("mkdirat");
			rec = MS_REC;
		} else if (e->d_type == DT_REG) {
			int f = openat(o, name, O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0644);
			if (f < 0)
				die("create");
			close(f);
		} else if (e->d_type == DT_LNK) {
			char target[4096];
			ssize_t l = readlinkat(a, name, target, sizeof target - 1);
			if (l < 0)
				die("readlinkat");
			target[l] = 0;
			if (symlinkat(target, o, name))
				die("symlinkat");
			n++;
			continue;
		} else {
			continue;
		}
		int s = openat(a, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), t = openat(o, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || t < 0)
			die("open entry");
		bind_fds(s, t, rec);
		close(s);
		close(t);
		n++;
	}
	closedir(d);
	close(a);
	close(o);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: mimic-floor DIR SCRATCH RUNS\n");
		return 2;
	}
	int runs = atoi(argv[3]);
	if (runs < 1)
		runs = 1;
	char aside[4096], over[4096];
	snprintf(aside, sizeof aside, "%s/aside", argv[2]);
	snprintf(over, sizeof over, "%s/over", argv[2]);
	if ((mkdir(aside, 0755) && errno != EEXIST) || (mkdir(over, 0755) && errno != EEXIST))
		die("mkdir");
	double *ms = calloc(runs, sizeof *ms);
	if (!ms)
		die("calloc");
	int n = 0;
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		n = mimic(argv[1], aside, over);
		ms[i] = now_ms() - t0;
		if (umount2(over, MNT_DETACH) || umount2(aside, MNT_DETACH))
			die("umount");
	}
	qsort(ms, runs, sizeof *ms, cmp);
	double median = ms[runs / 2];
	printf("| %s | %d | %.3f ms | %.1f us |\n", argv[1], n, median, n ? median * 1e3 / n : 0.0);
	free(ms);
	return 0;
}
