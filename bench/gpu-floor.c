/* The floor under the GPU step of a cold strict launch: the system calls
 * that no survey and no farm can do without, timed on their own, with
 * nothing else of the launcher around them.
 *
 *   gpu-floor DRIVER_DIR SCRATCH RUNS
 *
 * survey: one listing of DRIVER_DIR, an fstatat (owner and mode, nothing
 *   followed) of every entry and a readlinkat of every symlink: what any
 *   launcher that checks each library must do.
 * farms: a tmpfs (nosuid,nodev,noexec) on SCRATCH/gl holding one symlink
 *   per entry of DRIVER_DIR and a manifest, then remounted read-only; the
 *   same with one link each on SCRATCH/vulkan and SCRATCH/glvnd (the
 *   Vulkan and EGL farms); then the three unmounted (not counted).
 * Prints the median of RUNS of each, in milliseconds. Run it as root in a
 * private mount namespace (bench/gpu.sh does).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENTRIES 4096

static char names[MAX_ENTRIES][256];
static char targets[MAX_ENTRIES][512];
static int count;

static double now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void die(const char *what) {
	perror(what);
	exit(1);
}

static void survey(const char *dir) {
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die(dir);
	DIR *d = fdopendir(fd);
	if (!d)
		die("fdopendir");
	struct dirent *e;
	count = 0;
	while ((e = readdir(d)) && count < MAX_ENTRIES) {
		if (e->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die("fstatat");
		snprintf(names[count], sizeof names[count], "%s", e->d_name);
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(fd, e->d_name, targets[count], sizeof targets[count] - 1);
			if (n < 0)
				die("readlinkat");
			targets[count][n] = 0;
		} else {
			snprintf(targets[count], sizeof targets[count], "/var/lib/snapd/hostfs%s/%s", dir, e->d_name);
		}
		count++;
	}
	closedir(d);
}

static void farm(const char *mp, int links) {
	if (mount("tmpfs", mp, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,uid=0,gid=0") < 0)
		die("mount tmpfs");
	int fd = open(mp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die(mp);
	for (int i = 0; i < links && i < count; i++)
		if (symlinkat(targets[i], fd, names[i]) < 0)
			die("symlinkat");
	int m = openat(fd, ".confine-driver", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (m < 0 || write(m, "/var/lib/snapd/hostfs/x\n", 24) != 24)
		die("manifest");
	close(m);
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	if (mount(NULL, self, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die("remount");
	close(fd);
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: gpu-floor DRIVER_DIR SCRATCH RUNS\n");
		return 2;
	}
	const char *dir = argv[1], *scratch = argv[2];
	int runs = atoi(argv[3]);
	if (runs < 1)
		runs = 1;
	double *s = calloc(runs, sizeof *s), *f = calloc(runs, sizeof *f);
	char gl[4096], vk[4096], egl[4096];
	snprintf(gl, sizeof gl, "%s/gl", scratch);
	snprintf(vk, sizeof vk, "%s/vulkan", scratch);
	snprintf(egl, sizeof egl, "%s/glvnd", scratch);
	for (int r = 0; r < runs; r++) {
		double t0 = now_ms();
		survey(dir);
		double t1 = now_ms();
		farm(gl, count);
		farm(vk, 1);
		farm(egl, 1);
		double t2 = now_ms();
		if (umount2(gl, 0) < 0 || umount2(vk, 0) < 0 || umount2(egl, 0) < 0)
			die("umount");
		s[r] = t1 - t0;
		f[r] = t2 - t1;
	}
	qsort(s, runs, sizeof *s, cmp);
	qsort(f, runs, sizeof *f, cmp);
	printf("| floor (median of %d, %d entries) | survey: list, fstatat each, readlinkat each link | three farms: tmpfs, links, manifest, read-only | sum of the two |\n", runs, count);
	printf("| --- | ---: | ---: | ---: |\n");
	printf("| %s | %.3f ms | %.3f ms | %.3f ms |\n", dir, s[runs / 2], f[runs / 2], s[runs / 2] + f[runs / 2]);
	return 0;
}
