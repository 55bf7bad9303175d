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
 *       hang-write WRITE is answered only on "release", and while two
 *              opens of it are open the server reads no request at all
 *              (below)
 *       disk   64 MiB: [16,32) MiB answered after --slow-ms (default
 *              400), [32,48) MiB fail with EIO, the rest reads zeros
 *     prints "ready" once mounted; stdin "release" answers what hangs,
 *     EOF or "quit" unmounts and exits.
 *   kheal-trigger close-hang PATH COMM open PATH, close it (FLUSH hangs)
 *   kheal-trigger read-hang PATH COMM  open PATH, read it (on hang-read,
 *                                      READ hangs)
 *   kheal-trigger write-hang PATH COMM open PATH, write to it until a
 *                                      write returns 0 (on hang-write,
 *                                      a WRITE hangs; exits 0 after
 *                                      "release")
 *
 * Two write-hang on one hang-write make a hung task that SIGKILL cures,
 * as a service stuck on a dead network filesystem is: one writer holds
 * the inode's i_rwsem (FUSE allows one direct write at a time) while it
 * waits for the answer to its WRITE, the other sleeps in down_write() in
 * TASK_UNINTERRUPTIBLE, which khungtaskd and kheal report. A FUSE
 * request the server has read is waited for uninterruptibly once a
 * fatal signal comes, so the server must not read that WRITE: the first
 * writer's WRITE is held until the second one opens the file; the
 * server answers it, answers the OPEN, then stops reading /dev/fuse
 * until "release". The next WRITE, whichever writer's, stays unread: its
 * writer waits killably (after a SIGUSR1; interruptibly before), holding
 * i_rwsem. SIGKILL to both: the unread WRITE is withdrawn, its writer
 * exits, the other takes i_rwsem and exits too (FOPEN_NOFLUSH: no FLUSH
 * on close to wait for). "release" answers every WRITE with 0 bytes:
 * the writers exit 0.
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
#include <stdbool.h>
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
#define NODE_HANG_WRITE	5
#define HANG_WRITE_SIZE	4096
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

/* Writes at offset 0 until the server answers a WRITE with 0 bytes. */
static int cmd_write_hang(const char *path, const char *comm)
{
	static char buf[HANG_WRITE_SIZE];
	ssize_t n;
	int fd;

	catch_usr1();
	set_comm(comm);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		die(path);
	do {
		n = pwrite(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno != EINTR)
			die("write");
	} while (n != 0);
	close(fd);
	return 0;
}

/* FUSE server */

/* A request held until "release"; a WRITE is answered with @size. */
struct pending {
	uint64_t unique;
	bool write;
	uint32_t size;
};

struct fuse_srv {
	int fd;
	unsigned int slow_ms;
	struct pending pending[MAX_PENDING];	/* unanswered on hang* */
	unsigned int n_pending;
	unsigned int hw_open;	/* opens of hang-write not yet released */
	bool frozen;		/* reading no request until "release" */
	bool hw_pass;		/* released: WRITEs answered at once */
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
		a->size = node == NODE_DISK ? DISK_SIZE : HANG_WRITE_SIZE;
		a->blocks = a->size / 512;
	}
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void hold(struct fuse_srv *s, uint64_t unique, bool write,
		 uint32_t size)
{
	if (s->n_pending < MAX_PENDING)
		s->pending[s->n_pending++] = (struct pending){
			.unique = unique,
			.write = write,
			.size = size,
		};
}

static void reply_write(struct fuse_srv *s, uint64_t unique, uint32_t size)
{
	struct fuse_write_out o = { .size = size };

	reply(s, unique, 0, &o, sizeof(o));
}

/*
 * Answers the held requests: READ with EOF, FLUSH with success, WRITE
 * with all its bytes written (@write_all) or none (the writer stops).
 */
static void release_pending(struct fuse_srv *s, bool write_all)
{
	struct pending *p;

	while (s->n_pending) {
		p = &s->pending[--s->n_pending];
		if (p->write)
			reply_write(s, p->unique, write_all ? p->size : 0);
		else
			reply(s, p->unique, 0, NULL, 0);
	}
}

/* A second writer of hang-write: see the comment at the top. */
static void open_hang_write(struct fuse_srv *s, uint64_t unique)
{
	struct fuse_open_out o = {
		.fh = NODE_HANG_WRITE,
		.open_flags = FOPEN_DIRECT_IO | FOPEN_NOFLUSH,
	};

	if (++s->hw_open == 2 && !s->hw_pass) {
		release_pending(s, true);
		s->frozen = true;
	}
	reply(s, unique, 0, &o, sizeof(o));
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
		else if (!strcmp(name, "hang-write"))
			o.nodeid = NODE_HANG_WRITE;
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

		if (in->nodeid == NODE_HANG_WRITE) {
			open_hang_write(s, in->unique);
			break;
		}
		reply(s, in->unique, 0, &o, sizeof(o));
		break;
	}
	case FUSE_READ: {
		const struct fuse_read_in *r = arg;
		size_t len = r->size;

		if (in->nodeid == NODE_HANG_READ) {
			hold(s, in->unique, false, 0);
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
	case FUSE_WRITE: {
		const struct fuse_write_in *w = arg;

		if (in->nodeid != NODE_HANG_WRITE)
			reply(s, in->unique, -EROFS, NULL, 0);
		else if (s->hw_pass)
			reply_write(s, in->unique, 0);
		else
			hold(s, in->unique, true, w->size);
		break;
	}
	case FUSE_FLUSH:
		if (in->nodeid == NODE_HANG) {
			hold(s, in->unique, false, 0);
			break;
		}
		reply(s, in->unique, 0, NULL, 0);
		break;
	case FUSE_RELEASE:
		if (in->nodeid == NODE_HANG_WRITE && s->hw_open &&
		    !--s->hw_open)
			s->hw_pass = false;
		reply(s, in->unique, 0, NULL, 0);
		break;
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

	pfd[0].events = POLLIN;
	pfd[1].fd = STDIN_FILENO;
	pfd[1].events = POLLIN;
	for (;;) {
		ssize_t n;

		/* Frozen: requests stay queued in the kernel, unread. */
		pfd[0].fd = s.frozen ? -1 : s.fd;
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
			if (!strncmp(line, "release", 7)) {
				release_pending(&s, false);
				s.frozen = false;
				s.hw_pass = s.hw_open > 0;
			}
		}
		if (pfd[0].revents && !s.frozen) {
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
	release_pending(&s, false);
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
		"       read-hang PATH COMM | write-hang PATH COMM\n");
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
	if (!strcmp(argv[1], "write-hang") && argc == 4)
		return cmd_write_hang(argv[2], argv[3]);
	usage();
	return 2;
}
