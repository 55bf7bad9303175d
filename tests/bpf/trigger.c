// SPDX-License-Identifier: GPL-2.0
/*
 * kheal-trigger: causes the real faults the BPF probes watch for, on
 * demand, so that tests (and people) can check what gets reported.
 *
 *   kheal-trigger signal SIG COMM      die of SIG the real way: 11 a NULL
 *                                      write, 7 a page past EOF, 6 abort()
 *   kheal-trigger threads-segv COMM N  N threads, one faults
 *   kheal-trigger exit CODE COMM       exit normally with CODE
 *   kheal-trigger sleep COMM           wait for a signal (sent from outside)
 *   kheal-trigger hog MB COMM          touch MB MiB of anonymous memory
 *   kheal-trigger fuse MNT             serve a FUSE filesystem on MNT:
 *       hang       FLUSH (on close) is answered only on "release"
 *       hang-read  READ is answered only on "release" (stdin)
 *       disk   64 MiB: [16,32) MiB answered after --slow-ms (default
 *              400), [32,48) MiB fail with EIO, the rest reads zeros
 *     prints "ready" once mounted; stdin "release" answers what hangs,
 *     EOF or "quit" unmounts and exits.
 *   kheal-trigger close-hang PATH COMM open PATH, close it (FLUSH hangs)
 *   kheal-trigger read-hang PATH COMM  open PATH, read it (on hang-read,
 *                                      READ hangs)
 *
 * COMM is the name the dying or hung task takes (prctl PR_SET_NAME), so
 * that the test can tell its events from anything else on the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MIB		(1024 * 1024ULL)
#define DISK_SIZE	(64 * MIB)
#define SLOW_FROM	(16 * MIB)
#define BAD_FROM	(32 * MIB)
#define BAD_TO		(48 * MIB)
#define NODE_HANG	2
#define NODE_DISK	3
#define NODE_HANG_READ	4
#define MAX_PENDING	64
#define FUSE_BUF	(1024 * 1024 + 4096)

static void die(const char *what)
{
	fprintf(stderr, "kheal-trigger: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void set_comm(const char *comm)
{
	if (prctl(PR_SET_NAME, comm, 0, 0, 0))
		die("prctl(PR_SET_NAME)");
}

static void no_core(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
}

static void bus_error(void)
{
	char path[] = "/tmp/kheal-trigger-XXXXXX";
	volatile char *p;
	long page = sysconf(_SC_PAGESIZE);
	int fd = mkstemp(path);

	if (fd < 0)
		die("mkstemp");
	unlink(path);
	if (ftruncate(fd, page))
		die("ftruncate");
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	p[page] = 1;	/* past EOF: SIGBUS */
}

static int cmd_signal(int sig, const char *comm)
{
	volatile int *null = NULL;

	no_core();
	set_comm(comm);
	switch (sig) {
	case SIGSEGV:
		*null = 1;
		break;
	case SIGBUS:
		bus_error();
		break;
	case SIGABRT:
		abort();
	default:
		raise(sig);
	}
	return 3;	/* survived */
}

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *faulting_thread(void *arg)
{
	volatile int *null = NULL;

	usleep(50000);	/* let the others start */
	(void)arg;
	*null = 1;
	return NULL;
}

static int cmd_threads_segv(const char *comm, int n)
{
	pthread_t t;
	int i;

	no_core();
	set_comm(comm);
	for (i = 0; i < n - 1; i++)
		if (pthread_create(&t, NULL, idle_thread, NULL))
			die("pthread_create");
	if (pthread_create(&t, NULL, faulting_thread, NULL))
		die("pthread_create");
	pthread_join(t, NULL);
	return 3;
}

static int cmd_hog(unsigned long mb, const char *comm)
{
	unsigned long i;

	set_comm(comm);
	for (i = 0; i < mb; i++) {
		char *p = malloc(MIB);

		if (!p)
			return 4;
		memset(p, 0xa5, MIB);
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* A signal that interrupts the first, interruptible FUSE wait. */
static void catch_usr1(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

static int cmd_close_hang(const char *path, const char *comm)
{
	int fd;

	catch_usr1();
	set_comm(comm);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	close(fd);
	return 0;
}

static int cmd_read_hang(const char *path, const char *comm)
{
	char buf[16];
	int fd;

	catch_usr1();
	set_comm(comm);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	if (read(fd, buf, sizeof(buf)) < 0 && errno != EINTR)
		die("read");
	close(fd);
	return 0;
}

/* FUSE server */

struct fuse_srv {
	int fd;
	unsigned int slow_ms;
	uint64_t pending[MAX_PENDING];	/* unanswered READ/FLUSH on hang */
	unsigned int n_pending;
};

static void reply(struct fuse_srv *s, uint64_t unique, int error,
		  const void *data, size_t len)
{
	struct fuse_out_header h = {
		.len = sizeof(h) + (error ? 0 : len),
		.error = error,
		.unique = unique,
	};
	struct iovec iov[2] = {
		{ &h, sizeof(h) },
		{ (void *)data, error ? 0 : len },
	};

	/* ENOENT: the request was interrupted and is gone; fine. */
	if (writev(s->fd, iov, 2) < 0 && errno != ENOENT)
		die("fuse reply");
}

static void fill_attr(struct fuse_attr *a, uint64_t node)
{
	memset(a, 0, sizeof(*a));
	a->ino = node;
	a->nlink = 1;
	a->blksize = 4096;
	if (node == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
		a->nlink = 2;
	} else {
		a->mode = S_IFREG | 0644;
		a->size = node == NODE_DISK ? DISK_SIZE : 4096;
		a->blocks = a->size / 512;
	}
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void serve_one(struct fuse_srv *s, const char *buf)
{
	const struct fuse_in_header *in = (const void *)buf;
	const void *arg = buf + sizeof(*in);
	static char zeros[1024 * 1024];

	switch (in->opcode) {
	case FUSE_INIT: {
		const struct fuse_init_in *ii = arg;
		struct fuse_init_out o = {
			.major = FUSE_KERNEL_VERSION,
			.minor = FUSE_KERNEL_MINOR_VERSION,
			.max_readahead = ii->max_readahead,
			.max_background = 16,
			.congestion_threshold = 12,
			.max_write = 128 * 1024,
			.time_gran = 1,
			.max_pages = 256,
		};

		reply(s, in->unique, 0, &o, sizeof(o));
		break;
	}
	case FUSE_LOOKUP: {
		const char *name = arg;
		struct fuse_entry_out o = { 0 };

		if (!strcmp(name, "hang"))
			o.nodeid = NODE_HANG;
		else if (!strcmp(name, "disk"))
			o.nodeid = NODE_DISK;
		else if (!strcmp(name, "hang-read"))
			o.nodeid = NODE_HANG_READ;
		else {
			reply(s, in->unique, -ENOENT, NULL, 0);
			break;
		}
		fill_attr(&o.attr, o.nodeid);
		reply(s, in->unique, 0, &o, sizeof(o));
		break;
	}
	case FUSE_GETATTR: {
		struct fuse_attr_out o = { 0 };

		fill_attr(&o.attr, in->nodeid);
		reply(s, in->unique, 0, &o, sizeof(o));
		break;
	}
	case FUSE_OPEN: {
		/* Direct I/O: every read comes here, none from the cache. */
		struct fuse_open_out o = { .fh = in->nodeid,
					   .open_flags = FOPEN_DIRECT_IO };

		reply(s, in->unique, 0, &o, sizeof(o));
		break;
	}
	case FUSE_READ: {
		const struct fuse_read_in *r = arg;
		size_t len = r->size;

		if (in->nodeid == NODE_HANG_READ) {
			if (s->n_pending < MAX_PENDING)
				s->pending[s->n_pending++] = in->unique;
			break;
		}
		if (r->offset >= BAD_FROM && r->offset < BAD_TO) {
			reply(s, in->unique, -EIO, NULL, 0);
			break;
		}
		if (r->offset >= SLOW_FROM && r->offset < BAD_FROM)
			sleep_ms(s->slow_ms);
		if (r->offset >= DISK_SIZE)
			len = 0;
		else if (len > DISK_SIZE - r->offset)
			len = DISK_SIZE - r->offset;
		if (len > sizeof(zeros))
			len = sizeof(zeros);
		reply(s, in->unique, 0, zeros, len);
		break;
	}
	case FUSE_FLUSH:
		if (in->nodeid == NODE_HANG) {
			if (s->n_pending < MAX_PENDING)
				s->pending[s->n_pending++] = in->unique;
			break;
		}
		reply(s, in->unique, 0, NULL, 0);
		break;
	case FUSE_RELEASE:
	case FUSE_DESTROY:
		reply(s, in->unique, 0, NULL, 0);
		break;
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		break;	/* no reply expected */
	default:
		reply(s, in->unique, -ENOSYS, NULL, 0);
	}
}

static void release_pending(struct fuse_srv *s)
{
	while (s->n_pending)
		reply(s, s->pending[--s->n_pending], 0, NULL, 0);
}

static int cmd_fuse(const char *mnt, unsigned int slow_ms)
{
	struct fuse_srv s = { .slow_ms = slow_ms };
	struct pollfd pfd[2];
	char opts[128], line[64];
	char *buf = malloc(FUSE_BUF);

	if (!buf)
		die("malloc");
	s.fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (s.fd < 0)
		die("/dev/fuse");
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other",
		 s.fd);
	if (mount("kheal-trigger", mnt, "fuse.kheal-trigger",
		  MS_NOSUID | MS_NODEV, opts))
		die("mount fuse");
	printf("ready\n");
	fflush(stdout);

	pfd[0].fd = s.fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = STDIN_FILENO;
	pfd[1].events = POLLIN;
	for (;;) {
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[1].revents) {
			n = read(STDIN_FILENO, line, sizeof(line) - 1);
			if (n <= 0 || !strncmp(line, "quit", 4))
				break;
			line[n] = '\0';
			if (!strncmp(line, "release", 7))
				release_pending(&s);
		}
		if (pfd[0].revents) {
			n = read(s.fd, buf, FUSE_BUF);
			if (n < 0 && (errno == EINTR || errno == ENOENT ||
				      errno == EAGAIN))
				continue;
			if (n < 0 && errno == ENODEV)
				break;	/* unmounted */
			if (n < (ssize_t)sizeof(struct fuse_in_header))
				die("fuse read");
			serve_one(&s, buf);
		}
	}
	release_pending(&s);
	umount2(mnt, MNT_DETACH);
	close(s.fd);
	free(buf);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: kheal-trigger signal SIG COMM | threads-segv COMM N |\n"
		"       exit CODE COMM | sleep COMM | hog MB COMM |\n"
		"       fuse MNT [--slow-ms MS] | close-hang PATH COMM |\n"
		"       read-hang PATH COMM\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	if (!strcmp(argv[1], "signal") && argc == 4)
		return cmd_signal(atoi(argv[2]), argv[3]);
	if (!strcmp(argv[1], "threads-segv") && argc == 4)
		return cmd_threads_segv(argv[2], atoi(argv[3]));
	if (!strcmp(argv[1], "exit") && argc == 4) {
		set_comm(argv[3]);
		return atoi(argv[2]);
	}
	if (!strcmp(argv[1], "sleep") && argc == 3) {
		set_comm(argv[2]);
		for (;;)
			pause();
	}
	if (!strcmp(argv[1], "hog") && argc == 4)
		return cmd_hog(strtoul(argv[2], NULL, 10), argv[3]);
	if (!strcmp(argv[1], "fuse") && argc == 3)
		return cmd_fuse(argv[2], 400);
	if (!strcmp(argv[1], "fuse") && argc == 5 &&
	    !strcmp(argv[3], "--slow-ms"))
		return cmd_fuse(argv[2], atoi(argv[4]));
	if (!strcmp(argv[1], "close-hang") && argc == 4)
		return cmd_close_hang(argv[2], argv[3]);
	if (!strcmp(argv[1], "read-hang") && argc == 4)
		return cmd_read_hang(argv[2], argv[3]);
	usage();
	return 2;
}
