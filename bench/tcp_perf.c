/* SPDX-License-Identifier: MIT */
/*
 * bench/tcp_perf.c: spry, ZeroMQ, NNG and nanomsg side by side over
 * tcp://127.0.0.1 and ipc://, with the ends of bench/remote_perf
 * (bench/perf_ends.h): REQ/REP round trips (local_lat + remote_lat) and
 * PUSH->PULL one-way throughput (remote_thr -> local_thr), at 64 B,
 * 1 KiB and 64 KiB. Figures:
 *
 *   <tran>_lat_<size>     ns per REQ/REP round trip (lower is better)
 *   <tran>_thr_<size>     messages per second (higher is better)
 *   <tran>_mbs_<size>     the same in MB/s (10^6 bytes of payload)
 *
 * with tran tcp or ipc and size 64, 1k, 64k: both ends in this process,
 * in two threads (the local end in a thread of its own, the remote end in
 * this one). The same names ending in _2p (tcp only): the local end in a
 * child process (bench/remote_perf, spawned for each run; its
 * `# listening` line says it is ready), the remote end in this process.
 * Each line names every library (see inproc.h for the first five
 * fields):
 *
 *	name spry=<v> zmq=<v> unit=<u> ratio=<spry/zmq> nng=<v>
 *	ratio_nng=<spry/nng> nanomsg=<v> ratio_nanomsg=<spry/nanomsg>
 *
 * (one line). Every run opens, connects and closes its own sockets (a
 * fresh tcp port or ipc path each time); runs interleave the libraries
 * (spry, zmq, nng, nanomsg, then again) so that a burst of load on this
 * shared machine hits them alike, and each value is the median of the
 * runs (after untimed runs that pick the counts, see TP_RUN_NS; not with
 * --quick, which runs each once with small counts). Goals follow
 * their figures as `# name goal ...: met|missed` lines; they never change
 * the exit status. A wrong message or failed call exits 1.
 *
 *	tcp_perf [--quick] [--runs N] [--buf N] [--only TEXT]
 *
 * --buf sets the queue depth in messages (default 1000: ZeroMQ's
 * high-water mark; 0: each library's defaults); the program prints what
 * each library gets. --only runs the figures whose name contains TEXT.
 */
#include "bench.h"
#include "perf_ends.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <spawn.h>
#include <spry/spry.h>
#include <sys/socket.h>

extern char **environ;

/* TP_MAX_RUNS: the most timed runs a figure may have. */
#define TP_MAX_RUNS 64

/*
 * TP_RUN_NS: how long the timed part of a run should last. The
 * libraries' speeds differ by a hundred times here (NNG's and nanomsg's
 * blocking calls hand every message to their worker threads, which on a
 * loaded machine costs a scheduler wake-up each), so one count cannot
 * suit them all: untimed first runs (also the warm-up) start from the
 * figure's least count and grow it until the timed part lasts a tenth
 * of this, which gives each library its own count for the timed runs,
 * within the figure's bounds. The counts are printed with the figure.
 */
#define TP_RUN_NS 200e6

/* tp_kind: what a figure measures. */
enum { TP_LAT, TP_THR };

/* tp_fig: one measurement: a transport, a kind, a size, where. */
typedef struct tp_fig {
	const char *tran;    /* "tcp" or "ipc" */
	int         kind;    /* TP_LAT or TP_THR */
	size_t      size;    /* bytes per message */
	const char *label;   /* the size in names: 64, 1k, 64k */
	bool        twoproc; /* the local end in a child process */
	uint64_t    count;   /* most round trips or messages per run */
	uint64_t    least;   /* fewest (many times the buffers' depth) */
	uint64_t    quick;   /* the count with --quick */
} tp_fig;

/* tp_counts: the counts of one kind of figure at one size. */
typedef struct tp_counts {
	uint64_t most;  /* tp_fig's count */
	uint64_t least; /* tp_fig's least */
	uint64_t quick; /* tp_fig's quick */
} tp_counts;

/*
 * The sizes, with the counts per run for each kind. The least counts of
 * throughput runs are ten times the default queue depth and more, so
 * that no run is just one burst out of full buffers.
 */
static const struct tp_size {
	size_t      size;  /* bytes */
	const char *label; /* in names */
	tp_counts   lat;   /* round trips */
	tp_counts   thr;   /* messages */
} tp_sizes[] = {
    {64, "64", {20000, 500, 50}, {1000000, 10000, 500}},
    {1024, "1k", {20000, 500, 50}, {500000, 10000, 500}},
    {65536, "64k", {5000, 100, 30}, {100000, 2000, 50}},
};

#define TP_NSIZES (sizeof tp_sizes / sizeof tp_sizes[0])

/* The program's settings (main's, then read only). */
static struct tp_config {
	int         buf;       /* --buf */
	const char *only;      /* --only, or NULL */
	char        exe[4096]; /* bench/remote_perf, beside this program */
	unsigned    seq;       /* ipc paths made so far */
} tp_cfg = {.buf = PERF_DEFAULT_BUF};

/* ---- addresses ---------------------------------------------------------- */

/* tp_free_port asks the kernel for a tcp port nobody uses now. */
static int
tp_free_port(void)
{
	struct sockaddr_in sa  = {.sin_family = AF_INET};
	socklen_t          len = sizeof sa;
	int                fd  = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		bench_fail("cannot find a free tcp port: %s", strerror(errno));
	close(fd);
	return ntohs(sa.sin_port);
}

/* tp_url makes a fresh address for one run of f. */
static void
tp_url(const tp_fig *f, char *buf, size_t len)
{
	if (strcmp(f->tran, "tcp") == 0)
		snprintf(buf, len, "tcp://127.0.0.1:%d", tp_free_port());
	else
		snprintf(buf, len, "ipc:///tmp/spry-tcp-perf-%d-%u.ipc",
		    (int)getpid(), ++tp_cfg.seq);
}

/* tp_unlink removes what an ipc run may have left behind. */
static void
tp_unlink(const char *url)
{
	if (strncmp(url, "ipc://", 6) == 0)
		unlink(url + 6);
}

/* ---- both ends here ----------------------------------------------------- */

/*
 * tp_local: the local end's thread and what it measured. The semaphores
 * tell each end when the other is through, for the last sender's done_cb
 * (see perf_ends.h): local_lat waits for remote_lat, remote_thr for
 * local_thr.
 */
typedef struct tp_local {
	const perf_lib *lib;    /* its library */
	int             role;   /* PERF_LOCAL_LAT or PERF_LOCAL_THR */
	perf_args       a;      /* its arguments */
	sem_t           ready;  /* posted once it listens */
	sem_t           done;   /* posted once it has returned */
	sem_t           r_done; /* posted once the remote end has returned */
	double          value;  /* local_thr's figure */
	int             rc;     /* its result */
} tp_local;

/* tp_post is a ready_cb: it posts the semaphore arg. */
static void
tp_post(void *arg)
{
	sem_post(arg);
}

/* tp_wait is a done_cb: it waits for the semaphore arg. */
static void
tp_wait(void *arg)
{
	while (sem_wait(arg) != 0 && errno == EINTR)
		;
}

static void *
tp_local_main(void *arg)
{
	tp_local *l = arg;

	l->rc = l->lib->ends[l->role](&l->a, &l->value);
	sem_post(&l->done);
	return NULL;
}

/* tp_run_threads runs one f with lib, both ends here; returns its value. */
static double
tp_run_threads(const tp_fig *f, const perf_lib *lib, const perf_args *a)
{
	tp_local  l = {.lib = lib, .a = *a};
	perf_args r = *a;
	pthread_t t;
	double    v = 0;
	int       rc;

	l.role        = f->kind == TP_LAT ? PERF_LOCAL_LAT : PERF_LOCAL_THR;
	l.a.ready_cb  = tp_post;
	l.a.ready_arg = &l.ready;
	l.a.done_cb   = tp_wait;
	l.a.done_arg  = &l.r_done;
	r.done_cb     = tp_wait;
	r.done_arg    = &l.done;
	sem_init(&l.ready, 0, 0);
	sem_init(&l.done, 0, 0);
	sem_init(&l.r_done, 0, 0);
	if ((rc = pthread_create(&t, NULL, tp_local_main, &l)) != 0)
		bench_fail("pthread_create: %s", strerror(rc));
	tp_wait(&l.ready);
	rc = lib->ends[l.role + 1](&r, &v);
	sem_post(&l.r_done);
	pthread_join(t, NULL);
	sem_destroy(&l.ready);
	sem_destroy(&l.done);
	sem_destroy(&l.r_done);
	if (rc != 0 || l.rc != 0)
		bench_fail("%s: a run gave a wrong result", lib->name);
	return f->kind == TP_LAT ? v : l.value;
}

/* ---- the local end in a child ------------------------------------------- */

/* tp_spawn starts remote_perf with argv, its stdout to *out. */
static pid_t
tp_spawn(char **argv, FILE **out)
{
	posix_spawn_file_actions_t fa;
	int                        fds[2], rc;
	pid_t                      pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		bench_fail("pipe2: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		bench_fail("cannot start %s: %s", argv[0], strerror(rc));
	close(fds[1]);
	if ((*out = fdopen(fds[0], "r")) == NULL)
		bench_fail("fdopen: %s", strerror(errno));
	return pid;
}

/* tp_reap waits for the child and fails unless it exited with 0. */
static void
tp_reap(pid_t pid, FILE *out)
{
	int status;

	fclose(out);
	if (waitpid(pid, &status, 0) != pid)
		bench_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_fail("remote_perf failed (status %#x)", status);
}

/* tp_child: a local end in a child process, as the parent sees it. */
typedef struct tp_child {
	FILE  *out;   /* its standard output */
	double value; /* local_thr's figure, once read */
} tp_child;

/*
 * tp_value is remote_thr's done_cb in the parent: the child prints its
 * figure once it has every message. Reads value=<v> from that line.
 */
static void
tp_value(void *arg)
{
	tp_child   *c = arg;
	char        line[1024];
	const char *v;

	while (fgets(line, sizeof line, c->out) != NULL) {
		if (line[0] != '#' && (v = strstr(line, " value=")) != NULL) {
			c->value = strtod(v + 7, NULL);
			return;
		}
	}
	bench_fail("remote_perf printed no result");
}

/* tp_run_procs runs one f with lib, the local end in a child process. */
static double
tp_run_procs(const tp_fig *f, const perf_lib *lib, const perf_args *a)
{
	int   role = f->kind == TP_LAT ? PERF_LOCAL_LAT : PERF_LOCAL_THR;
	char  size[32], count[32], buf[32], line[1024];
	char *argv[] = {tp_cfg.exe, "--lib", (char *)lib->name, "--buf", buf,
	    (char *)perf_role_name(role), (char *)a->url, size, count, NULL};
	tp_child  c  = {0};
	perf_args r  = *a;
	pid_t     pid;
	double    v = 0;

	snprintf(size, sizeof size, "%zu", a->size);
	snprintf(count, sizeof count, "%llu", (unsigned long long)a->count);
	snprintf(buf, sizeof buf, "%d", a->buf);
	pid = tp_spawn(argv, &c.out);
	if (fgets(line, sizeof line, c.out) == NULL ||
	    strncmp(line, "# listening", 11) != 0)
		bench_fail("remote_perf %s did not listen", argv[5]);
	r.done_cb  = tp_value;
	r.done_arg = &c;
	if (lib->ends[role + 1](&r, &v) != 0)
		bench_fail("%s: a run gave a wrong result", lib->name);
	tp_reap(pid, c.out);
	return f->kind == TP_THR ? c.value : v;
}

/* ---- the poller's share ------------------------------------------------- */

/*
 * spry serves every tcp and ipc connection of a process on one poller
 * thread, "spry-poll" (transports/poll_epoll.c). A dedicated thread is
 * only right if it is not what limits throughput, so the one-process
 * throughput figures also print its time on a CPU as a share of spry's
 * runs: near 100% it would be the bottleneck. Read from the thread's
 * /proc schedstat: nanoseconds on a CPU, then waiting for one.
 */
typedef struct tp_cpu {
	uint64_t run;  /* ns on a CPU */
	uint64_t wait; /* ns runnable, waiting for a CPU */
} tp_cpu;

/* tp_poller returns the poller thread's id, or 0 before it exists. */
static pid_t
tp_poller(void)
{
	static pid_t   tid; /* found once: the poller lives for the process */
	DIR           *d;
	struct dirent *e;

	if (tid != 0 || (d = opendir("/proc/self/task")) == NULL)
		return tid;
	while (tid == 0 && (e = readdir(d)) != NULL) {
		char  path[300], comm[32] = "";
		FILE *f;

		snprintf(
		    path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof comm, f) != NULL &&
		    strcmp(comm, "spry-poll\n") == 0)
			tid = (pid_t)atoi(e->d_name);
		fclose(f);
	}
	closedir(d);
	return tid;
}

/* tp_poller_cpu reads the poller's CPU times; false if unknown. */
static bool
tp_poller_cpu(tp_cpu *c)
{
	char               path[64];
	FILE              *f;
	unsigned long long run, wait;
	pid_t              tid = tp_poller();
	bool               ok;

	if (tid == 0)
		return false;
	snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	ok = fscanf(f, "%llu %llu", &run, &wait) == 2;
	fclose(f);
	*c = (tp_cpu){run, wait};
	return ok;
}

/* ---- figures ------------------------------------------------------------ */

/* tp_run_once makes one run of f with lib and returns its value. */
static double
tp_run_once(const tp_fig *f, const perf_lib *lib, uint64_t count)
{
	char      url[256];
	perf_args a = {
	    .url = url, .size = f->size, .count = count, .buf = tp_cfg.buf};
	double v;

	tp_url(f, url, sizeof url);
	v = f->twoproc ? tp_run_procs(f, lib, &a) : tp_run_threads(f, lib, &a);
	tp_unlink(url);
	return v;
}

/* tp_clamp keeps a count within f's bounds. */
static uint64_t
tp_clamp(const tp_fig *f, double n)
{
	if (!(n > (double)f->least)) /* NaN too */
		return f->least;
	return n < (double)f->count ? (uint64_t)n : f->count;
}

/*
 * tp_count picks lib's count for f's timed runs (see TP_RUN_NS): runs
 * with growing counts until the timed part of one lasts a tenth of
 * TP_RUN_NS, then scales.
 */
static uint64_t
tp_count(const tp_fig *f, const perf_lib *lib)
{
	uint64_t n = f->least;
	double   v, ns;

	for (;;) {
		v  = tp_run_once(f, lib, n);
		ns = f->kind == TP_LAT ? v * (double)(n - 1) :
		                         (double)(n - 1) * 1e9 / v;
		if (ns >= TP_RUN_NS / 10 || n == f->count)
			break;
		n = tp_clamp(f, (double)n * 8);
	}
	return tp_clamp(f, (double)n * TP_RUN_NS / ns);
}

/*
 * tp_spry_run makes one run of f with spry; for one-process throughput
 * runs it also sets share[0] and share[1] to the poller's time on a CPU
 * and waiting for one, as shares of the run's time (else NaN).
 */
static double
tp_spry_run(const tp_fig *f, uint64_t count, double share[2])
{
	tp_cpu   c0, c1;
	bool     watch = f->kind == TP_THR && !f->twoproc;
	bool     ok    = watch && tp_poller_cpu(&c0);
	uint64_t t0    = bench_now();
	double   v     = tp_run_once(f, &perf_libs[0], count);
	double   ns    = (double)(bench_now() - t0);

	share[0] = share[1] = NAN;
	if (ok && tp_poller_cpu(&c1)) {
		share[0] = (double)(c1.run - c0.run) / ns;
		share[1] = (double)(c1.wait - c0.wait) / ns;
	}
	return v;
}

/*
 * tp_measure sets v[lib] to each library's median over the runs, n[lib]
 * to the count of its timed runs, and poll[] to the medians of spry's
 * poller shares (see tp_spry_run).
 */
static void
tp_measure(const tp_fig *f, double v[PERF_NLIBS], uint64_t n[PERF_NLIBS],
    double poll[2])
{
	double runs[PERF_NLIBS][TP_MAX_RUNS], share[2][TP_MAX_RUNS];

	for (int l = 0; l < PERF_NLIBS; l++) {
		n[l] = bench_cfg.quick ? f->quick : tp_count(f, &perf_libs[l]);
	}
	for (int r = 0; r < bench_cfg.runs; r++) {
		double sh[2];

		runs[0][r]  = tp_spry_run(f, n[0], sh);
		share[0][r] = sh[0];
		share[1][r] = sh[1];
		for (int l = 1; l < PERF_NLIBS; l++)
			runs[l][r] = tp_run_once(f, &perf_libs[l], n[l]);
	}
	for (int l = 0; l < PERF_NLIBS; l++)
		v[l] = bench_median(runs[l], bench_cfg.runs);
	poll[0] = bench_median(share[0], bench_cfg.runs);
	poll[1] = bench_median(share[1], bench_cfg.runs);
}

/* tp_command prints how to make one run of f by hand, with the counts. */
static void
tp_command(const tp_fig *f, const char *name, const uint64_t n[PERF_NLIBS])
{
	const char *k = f->kind == TP_LAT ? "lat" : "thr";

	printf("# %s: remote_perf --lib LIB --buf %d local_%s %s://... %zu "
	       "COUNT, then remote_%s with the same arguments%s; COUNT "
	       "spry=%llu zmq=%llu nng=%llu nanomsg=%llu\n",
	    name, tp_cfg.buf, k, f->tran, f->size, k,
	    f->twoproc ? " (a process each)" : " (a thread each)",
	    (unsigned long long)n[0], (unsigned long long)n[1],
	    (unsigned long long)n[2], (unsigned long long)n[3]);
}

/* tp_report prints one figure line (see the top of the file). */
static void
tp_report(const char *name, const char *unit, const double v[PERF_NLIBS])
{
	printf("%s spry=%.2f zmq=%.2f unit=%s ratio=%.4g nng=%.2f "
	       "ratio_nng=%.4g nanomsg=%.2f ratio_nanomsg=%.4g\n",
	    name, v[0], v[1], unit, v[0] / v[1], v[2], v[0] / v[2], v[3],
	    v[0] / v[3]);
}

/*
 * tp_goal prints the goal line of a figure: spry's ratio to peer (an
 * index into perf_libs) must be at least (min) or at most bound.
 */
static void
tp_goal(const char *name, const double v[PERF_NLIBS], int peer, bool min,
    double bound)
{
	double ratio = v[0] / v[peer];
	bool   met   = min ? ratio >= bound : ratio <= bound;

	printf("# %s goal ratio%s%s%s%.3f: %s\n", name, peer == 1 ? "" : "_",
	    peer == 1 ? "" : perf_libs[peer].name, min ? ">=" : "<=", bound,
	    met ? "met" : "missed");
}

/* tp_goals prints the goals of the issue for the figures that have one. */
static void
tp_goals(const tp_fig *f, const char *name, const char *mbs,
    const double v[PERF_NLIBS])
{
	if (strcmp(f->tran, "tcp") != 0)
		return;
	if (f->kind == TP_LAT && f->size == 64)
		tp_goal(name, v, 3, false, 0.7); /* vs nanomsg */
	if (f->kind == TP_THR && f->size == 64)
		tp_goal(name, v, 1, true, 1.0);
	if (f->kind == TP_THR && f->size == 65536)
		tp_goal(mbs, v, 1, true, 1.5);
}

/* tp_figure measures f (unless --only leaves it out) and reports it. */
static void
tp_figure(const tp_fig *f)
{
	char     name[64], mbs[64];
	double   v[PERF_NLIBS], mb[PERF_NLIBS], poll[2];
	uint64_t n[PERF_NLIBS];

	snprintf(name, sizeof name, "%s_%s_%s%s", f->tran,
	    f->kind == TP_LAT ? "lat" : "thr", f->label,
	    f->twoproc ? "_2p" : "");
	snprintf(mbs, sizeof mbs, "%s_mbs_%s%s", f->tran, f->label,
	    f->twoproc ? "_2p" : "");
	if (tp_cfg.only != NULL && strstr(name, tp_cfg.only) == NULL &&
	    strstr(mbs, tp_cfg.only) == NULL)
		return;
	tp_measure(f, v, n, poll);
	tp_command(f, name, n);
	if (f->kind == TP_LAT) {
		tp_report(name, "ns", v);
	} else {
		for (int l = 0; l < PERF_NLIBS; l++)
			mb[l] = v[l] * (double)f->size / 1e6;
		tp_report(name, "msg/s", v);
		tp_report(mbs, "MB/s", mb);
	}
	tp_goals(f, name, mbs, v);
	if (!isnan(poll[0]))
		printf(
		    "# %s spry poller thread: on a CPU %.0f%% of the run, "
		    "waiting for one %.0f%% (near 100%% on a CPU would make "
		    "it the bottleneck)\n",
		    name, 100 * poll[0], 100 * poll[1]);
}

/* ---- main --------------------------------------------------------------- */

/* tp_usage prints the usage on f and exits with rc. */
static _Noreturn void
tp_usage(FILE *f, int rc)
{
	fprintf(f,
	    "usage: tcp_perf [--quick] [--runs N] [--buf N] "
	    "[--only TEXT]\n");
	exit(rc);
}

/* tp_args parses the command line into bench_cfg and tp_cfg. */
static void
tp_args(int argc, char **argv)
{
	int runs = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			bench_cfg.quick = true;
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--buf") == 0 && i + 1 < argc)
			tp_cfg.buf = atoi(argv[++i]);
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			tp_cfg.only = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			tp_usage(stdout, 0);
		else
			tp_usage(stderr, 2);
	}
	if (runs < 0 || runs > TP_MAX_RUNS || tp_cfg.buf < 0)
		tp_usage(stderr, 2);
	bench_cfg.runs = runs > 0 ? runs : (bench_cfg.quick ? 1 : BENCH_RUNS);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* tp_find_exe sets tp_cfg.exe to remote_perf beside this program. */
static void
tp_find_exe(void)
{
	ssize_t n = readlink("/proc/self/exe", tp_cfg.exe,
	    sizeof tp_cfg.exe - sizeof "remote_perf");
	char   *slash;

	if (n < 0)
		bench_fail("readlink /proc/self/exe: %s", strerror(errno));
	tp_cfg.exe[n] = '\0';
	if ((slash = strrchr(tp_cfg.exe, '/')) == NULL)
		bench_fail("odd path %s", tp_cfg.exe);
	strcpy(slash + 1, "remote_perf");
	if (access(tp_cfg.exe, X_OK) != 0)
		bench_fail("%s: %s", tp_cfg.exe, strerror(errno));
}

/* tp_load prints the load average, which says how noisy a run was. */
static void
tp_load(const char *when)
{
	char  buf[128] = "?";
	FILE *f        = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fgets(buf, sizeof buf, f) != NULL)
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	printf("# load %s: %s (%ld CPUs)\n", when, buf,
	    sysconf(_SC_NPROCESSORS_ONLN));
}

/* tp_figures measures and reports the figures of one transport. */
static void
tp_figures(const char *tran, bool twoproc)
{
	for (size_t s = 0; s < TP_NSIZES; s++) {
		const struct tp_size *z = &tp_sizes[s];
		tp_fig f = {tran, TP_LAT, z->size, z->label, twoproc,
		    z->lat.most, z->lat.least, z->lat.quick};

		tp_figure(&f);
		f.kind  = TP_THR;
		f.count = z->thr.most;
		f.least = z->thr.least;
		f.quick = z->thr.quick;
		tp_figure(&f);
	}
}

int
main(int argc, char **argv)
{
	tp_args(argc, argv);
	tp_find_exe();
	tp_load("before");
	perf_buffers(stdout, tp_cfg.buf);
	tp_figures("tcp", false);
	tp_figures("ipc", false);
	tp_figures("tcp", true); /* two processes: tcp only */
	tp_load("after");
	spry_runtime_stop();
	return 0;
}
