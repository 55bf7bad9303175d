// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: a server with a fake op table in this process,
 * clients in forked children (some of them another user).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"

/* A gid no one has, for the reader group. */
#define READER_GID	64123
#define NOBODY		65534

static char dir[] = "/tmp/kheal-test-ctl-XXXXXX";
static char path[64];

static int make_dir(void **state)
{
	(void)state;
	if (!mkdtemp(dir) || chmod(dir, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/kheald.sock", dir);
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

static int fresh(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static int need_root(void)
{
	if (geteuid())
		skip();
	return 0;
}

/* The fake ops */

static int op_status(const Kheal__CtlRequest *req,
		     const struct kheal_ctl_peer *peer,
		     Kheal__CtlResponse *resp, struct kheal_ctl_arena *arena,
		     void *arg)
{
	(void)req;
	resp->profile = arg;
	resp->message = kheal_ctl_sprintf(arena, "uid %u", peer->uid);
	return resp->message ? 0 : -ENOMEM;
}

static int op_subsystems(const Kheal__CtlRequest *req,
			 const struct kheal_ctl_peer *peer,
			 Kheal__CtlResponse *resp,
			 struct kheal_ctl_arena *arena, void *arg)
{
	Kheal__SubsystemInfo **v;
	size_t i, n = 3;

	(void)req;
	(void)peer;
	(void)arg;
	v = kheal_ctl_calloc(arena, n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		v[i] = kheal_ctl_alloc(arena, sizeof(*v[i]));
		if (!v[i])
			return -ENOMEM;
		kheal__subsystem_info__init(v[i]);
		v[i]->id = kheal_ctl_sprintf(arena, "cgroup:/s%zu.slice", i);
		v[i]->has_state = true;
		v[i]->state = KHEAL__HEALTH_STATE__DEGRADED;
	}
	resp->n_subsystems = n;
	resp->subsystems = v;
	return 0;
}

static int op_approve(const Kheal__CtlRequest *req,
		      const struct kheal_ctl_peer *peer,
		      Kheal__CtlResponse *resp, struct kheal_ctl_arena *arena,
		      void *arg)
{
	(void)peer;
	(void)arg;
	resp->message = kheal_ctl_sprintf(arena, "approved %llu",
					  (unsigned long long)req->id);
	return 0;
}

/* Fails without a message: the server writes one. */
static int op_heal(const Kheal__CtlRequest *req,
		   const struct kheal_ctl_peer *peer,
		   Kheal__CtlResponse *resp, struct kheal_ctl_arena *arena,
		   void *arg)
{
	(void)req;
	(void)peer;
	(void)resp;
	(void)arena;
	(void)arg;
	return -ENOENT;
}

/* Runs out of memory, and ignores it. */
static int op_incidents(const Kheal__CtlRequest *req,
			const struct kheal_ctl_peer *peer,
			Kheal__CtlResponse *resp,
			struct kheal_ctl_arena *arena, void *arg)
{
	(void)req;
	(void)peer;
	(void)arg;
	resp->n_incidents = 1;
	resp->incidents = kheal_ctl_calloc(arena, SIZE_MAX / 2, 4);
	return 0;
}

/* An answer over the packet limit. */
static int op_runbooks(const Kheal__CtlRequest *req,
		       const struct kheal_ctl_peer *peer,
		       Kheal__CtlResponse *resp, struct kheal_ctl_arena *arena,
		       void *arg)
{
	char *s = kheal_ctl_alloc(arena, 2 * KHEAL_CTL_MAX_PACKET);

	(void)req;
	(void)peer;
	(void)arg;
	if (!s)
		return -ENOMEM;
	memset(s, 'x', 2 * KHEAL_CTL_MAX_PACKET - 1);
	resp->message = s;
	return 0;
}

static const struct kheal_ctl_op ops[] = {
	{ KHEAL__CTL_REQUEST__OP__STATUS, "status", false, op_status },
	{ KHEAL__CTL_REQUEST__OP__SUBSYSTEMS, "subsystems", false,
	  op_subsystems },
	{ KHEAL__CTL_REQUEST__OP__INCIDENTS, "incidents", false, op_incidents },
	{ KHEAL__CTL_REQUEST__OP__APPROVE, "approve", true, op_approve },
	{ KHEAL__CTL_REQUEST__OP__HEAL, "heal", true, op_heal },
	{ KHEAL__CTL_REQUEST__OP__RUNBOOKS, "runbooks", false, op_runbooks },
};

static void listen_ok(struct kheal_ctl *c, gid_t reader)
{
	struct kheal_err err = { "" };
	int ret;

	ret = kheal_ctl_listen(c, path, reader, ops,
			       sizeof(ops) / sizeof(ops[0]), "test-profile",
			       &err);
	if (ret)
		fail_msg("listen: %d: %s", ret, err.msg);
}

/* Clients in children */

/* Who a client child runs as. */
enum who {
	AS_ROOT,
	AS_STRANGER,		/* uid and gid nobody, no other group */
	AS_MEMBER,		/* nobody, the reader group supplementary */
	AS_MEMBER_PRIMARY,	/* nobody, with the reader group as its gid */
};

static void become(enum who who)
{
	gid_t reader = READER_GID;
	gid_t gid = who == AS_MEMBER_PRIMARY ? READER_GID : NOBODY;

	if (who == AS_ROOT)
		return;
	if (setgroups(who == AS_MEMBER, &reader) || setgid(gid) ||
	    setuid(NOBODY))
		_exit(99);
}

/*
 * One call: what kheal_ctl_call returned and its message, or the
 * response's error, message and what else the test looks at.
 */
static void report(int fd, int ret, const struct kheal_err *err,
		   const Kheal__CtlResponse *resp)
{
	char line[1024];
	size_t i;
	int n;

	if (ret) {
		n = snprintf(line, sizeof(line), "call %d: %s", ret, err->msg);
	} else {
		n = snprintf(line, sizeof(line), "error %d: %s; profile %s;",
			     resp->error, resp->message ? resp->message : "-",
			     resp->profile ? resp->profile : "-");
		for (i = 0; i < resp->n_subsystems && n < (int)sizeof(line);
		     i++)
			n += snprintf(line + n, sizeof(line) - n, " %s",
				      resp->subsystems[i]->id);
	}
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	if (write(fd, line, n) != n)
		_exit(98);
}

/* Serves the listener until child @pid exits; the child's report. */
static char *serve_until_exit(struct kheal_ctl *c, pid_t pid, int rfd,
			      int *handled)
{
	struct pollfd pfd = { .fd = kheal_ctl_fd(c), .events = POLLIN };
	static char line[1024];
	struct kheal_err err;
	int status, i;
	ssize_t n;

	for (i = 0; i < 1000; i++) {
		if (poll(&pfd, 1, 10) > 0) {
			err.msg[0] = '\0';
			*handled = kheal_ctl_handle(c, &err);
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	assert_true(i < 1000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	n = read(rfd, line, sizeof(line) - 1);
	close(rfd);
	line[n > 0 ? n : 0] = '\0';
	return line;
}

/* @req sent by a child running as @who, answered by @c. */
static char *call_as(struct kheal_ctl *c, enum who who,
		     const Kheal__CtlRequest *req)
{
	Kheal__CtlResponse *resp;
	struct kheal_err err = { "" };
	int pfd[2], ret, handled = 0;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(pfd[0]);
		become(who);
		ret = kheal_ctl_call(path, req, &resp, &err);
		report(pfd[1], ret, &err, resp);
		_exit(0);
	}
	close(pfd[1]);
	return serve_until_exit(c, pid, pfd[0], &handled);
}

static Kheal__CtlRequest request(Kheal__CtlRequest__Op op)
{
	Kheal__CtlRequest req = KHEAL__CTL_REQUEST__INIT;

	req.has_op = true;
	req.op = op;
	return req;
}

static void assert_starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)))
		fail_msg("got '%s', want it to start '%s'", s, prefix);
}

/* The tests */

/* A request gets its op's answer, parts allocated from the arena. */
static void test_ctl_round_trip(void **state)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__STATUS);
	struct kheal_ctl c;

	(void)state;
	listen_ok(&c, (gid_t)-1);
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error 0: uid 0; profile test-profile;");
	req = request(KHEAL__CTL_REQUEST__OP__SUBSYSTEMS);
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error 0: -; profile -; cgroup:/s0.slice "
			    "cgroup:/s1.slice cgroup:/s2.slice");
	req = request(KHEAL__CTL_REQUEST__OP__APPROVE);
	req.has_id = true;
	req.id = 12;
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error 0: approved 12; profile -;");
	kheal_ctl_close(&c);
	assert_int_equal(access(path, F_OK), -1);
}

/* An op the table lacks, or none at all, is -EINVAL with a message. */
static void test_ctl_unknown_op_is_einval(void **state)
{
	Kheal__CtlRequest req = request(42);
	struct kheal_ctl c;

	(void)state;
	listen_ok(&c, (gid_t)-1);
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error -22: unknown op 42: this kheald does not "
			    "serve it; profile -;");
	req = request(KHEAL__CTL_REQUEST__OP__DENY);
	assert_starts(call_as(&c, AS_ROOT, &req), "error -22: unknown op 7");
	req = (Kheal__CtlRequest)KHEAL__CTL_REQUEST__INIT;
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error -22: the request names no op; profile -;");
	kheal_ctl_close(&c);
}

/* A handler's -errno without a message gets one naming the op. */
static void test_ctl_handler_error_named(void **state)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__HEAL);
	struct kheal_ctl c;

	(void)state;
	listen_ok(&c, (gid_t)-1);
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error -2: heal: No such file or directory; "
			    "profile -;");
	req = request(KHEAL__CTL_REQUEST__OP__INCIDENTS);
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error -12: incidents: out of memory building "
			    "the answer; profile -;");
	req = request(KHEAL__CTL_REQUEST__OP__RUNBOOKS);
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error -90: runbooks: the answer (2097157 bytes) "
			    "is over the 1048576-byte limit; profile -;");
	kheal_ctl_close(&c);
}

/* Sends @len bytes of @data as one packet; the answer, unpacked. */
static void raw_child(int wfd, const void *data, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static unsigned char buf[4096];
	Kheal__CtlResponse *resp;
	int fd, size = len + 65536;
	ssize_t n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) ||
	    send(fd, data, len, 0) != (ssize_t)len)
		_exit(97);
	n = recv(fd, buf, sizeof(buf), 0);
	resp = n > 0 ? kheal__ctl_response__unpack(NULL, n, buf) : NULL;
	if (!resp)
		_exit(96);
	report(wfd, 0, NULL, resp);
	kheal__ctl_response__free_unpacked(resp, NULL);
	close(fd);
}

static char *send_raw(struct kheal_ctl *c, const void *data, size_t len)
{
	int pfd[2], handled = 0;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(pfd[0]);
		raw_child(pfd[1], data, len);
		_exit(0);
	}
	close(pfd[1]);
	return serve_until_exit(c, pid, pfd[0], &handled);
}

/* Garbage and oversized packets get -EINVAL; the server keeps serving. */
static void test_ctl_garbage_is_einval_and_server_survives(void **state)
{
	static const unsigned char garbage[] = { 0xff, 0xff, 0xff, 0x07, 0x01 };
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__STATUS);
	struct kheal_ctl c;
	char *big;

	(void)state;
	need_root();
	listen_ok(&c, (gid_t)-1);
	assert_string_equal(send_raw(&c, garbage, sizeof(garbage)),
			    "error -22: the request (5 bytes) is not a "
			    "CtlRequest; profile -;");
	big = calloc(1, KHEAL_CTL_MAX_PACKET + 1);
	assert_non_null(big);
	assert_string_equal(send_raw(&c, big, KHEAL_CTL_MAX_PACKET + 1),
			    "error -22: the request (1048577 bytes) is over "
			    "the 1048576-byte limit; profile -;");
	free(big);
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error 0: uid 0; profile test-profile;");
	kheal_ctl_close(&c);
}

/* A client that sends nothing is given up on after the timeout. */
static void test_ctl_silent_client_times_out(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct kheal_err err = { "" };
	struct timespec t0, t1;
	struct kheal_ctl c;
	int fd, ret;
	long ms;

	(void)state;
	listen_ok(&c, (gid_t)-1);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = kheal_ctl_handle(&c, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_int_equal(ret, -ETIMEDOUT);
	assert_non_null(strstr(err.msg, "sent no request in time"));
	assert_true(ms >= KHEAL_CTL_IO_TIMEOUT_MS - 50 && ms < 3000);
	close(fd);

	/* One that connects and hangs up (a liveness probe) is no error. */
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(kheal_ctl_handle(&c, &err), 0);
	/* And with nobody waiting, handle has nothing to do. */
	assert_int_equal(kheal_ctl_handle(&c, &err), 0);
	kheal_ctl_close(&c);
}

/* The socket file: 0660 root:reader, or 0600 without a reader group. */
static void test_ctl_socket_mode_and_group(void **state)
{
	struct kheal_ctl c;
	struct stat st;

	(void)state;
	need_root();
	listen_ok(&c, READER_GID);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, READER_GID);
	kheal_ctl_close(&c);
	listen_ok(&c, (gid_t)-1);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	kheal_ctl_close(&c);
}

/* Outside the reader group, neither the file nor the server lets one in. */
static void test_ctl_stranger_refused(void **state)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__STATUS);
	struct kheal_ctl c;
	char want[256];

	(void)state;
	need_root();
	listen_ok(&c, READER_GID);
	snprintf(want, sizeof(want),
		 "call -13: %s: permission denied: kheald answers root and "
		 "members of its reader group (kheal)", path);
	assert_string_equal(call_as(&c, AS_STRANGER, &req), want);
	/* Past the file mode, the server refuses all the same. */
	assert_int_equal(chmod(path, 0666), 0);
	assert_string_equal(call_as(&c, AS_STRANGER, &req),
			    "error -13: status needs root or membership in "
			    "group 64123 (you are uid 65534); profile -;");
	kheal_ctl_close(&c);

	listen_ok(&c, (gid_t)-1);
	assert_int_equal(chmod(path, 0666), 0);
	assert_string_equal(call_as(&c, AS_STRANGER, &req),
			    "error -13: status needs root: kheald has no "
			    "reader group (you are uid 65534); profile -;");
	kheal_ctl_close(&c);
}

/* A member of the reader group may read, and may not act. */
static void test_ctl_member_reads_but_does_not_act(void **state)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__STATUS);
	Kheal__CtlRequest act = request(KHEAL__CTL_REQUEST__OP__APPROVE);
	struct kheal_ctl c;

	(void)state;
	need_root();
	listen_ok(&c, READER_GID);
	assert_string_equal(call_as(&c, AS_MEMBER, &req),
			    "error 0: uid 65534; profile test-profile;");
	assert_string_equal(call_as(&c, AS_MEMBER_PRIMARY, &req),
			    "error 0: uid 65534; profile test-profile;");
	act.has_id = true;
	act.id = 3;
	assert_string_equal(call_as(&c, AS_MEMBER, &act),
			    "error -13: approve needs root (you are uid "
			    "65534); profile -;");
	assert_string_equal(call_as(&c, AS_ROOT, &act),
			    "error 0: approved 3; profile -;");
	kheal_ctl_close(&c);
}

/* A socket file nobody answers on is removed; anything else is kept. */
static void test_ctl_stale_socket_removed(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__STATUS);
	struct kheal_err err = { "" };
	struct kheal_ctl c;
	char want[256];
	int fd;

	(void)state;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	listen_ok(&c, (gid_t)-1);
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error 0: uid 0; profile test-profile;");
	kheal_ctl_close(&c);

	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(kheal_ctl_listen(&c, path, (gid_t)-1, ops, 1, NULL,
					  &err), -EEXIST);
	snprintf(want, sizeof(want),
		 "control socket %s: the path exists and is not a socket; "
		 "remove it or choose another path", path);
	assert_string_equal(err.msg, want);
	assert_int_equal(access(path, F_OK), 0);
}

/* A second listener on a live socket is refused and leaves it be. */
static void test_ctl_second_listener_eaddrinuse(void **state)
{
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__STATUS);
	struct kheal_err err = { "" };
	struct kheal_ctl c, c2;
	char want[256];

	(void)state;
	listen_ok(&c, (gid_t)-1);
	assert_int_equal(kheal_ctl_listen(&c2, path, (gid_t)-1, ops, 1, NULL,
					  &err), -EADDRINUSE);
	snprintf(want, sizeof(want),
		 "control socket %s: another process (another kheald?) is "
		 "listening on it; stop it first", path);
	assert_string_equal(err.msg, want);
	assert_string_equal(call_as(&c, AS_ROOT, &req),
			    "error 0: uid 0; profile test-profile;");
	kheal_ctl_close(&c);
}

/* Without a server the client says kheald is not running. */
static void test_ctl_client_without_server_not_running(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	Kheal__CtlRequest req = request(KHEAL__CTL_REQUEST__OP__STATUS);
	struct kheal_err err = { "" };
	Kheal__CtlResponse *resp;
	char want[256];
	int fd;

	(void)state;
	snprintf(want, sizeof(want),
		 "kheald is not running (nothing answers on %s)", path);
	assert_int_equal(kheal_ctl_call(path, &req, &resp, &err), -ENOENT);
	assert_string_equal(err.msg, want);
	assert_null(resp);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	err.msg[0] = '\0';
	assert_int_equal(kheal_ctl_call(path, &req, &resp, &err),
			 -ECONNREFUSED);
	assert_string_equal(err.msg, want);
}

/* The arena: zeroed blocks, big ones, and a failure that sticks. */
static void test_ctl_arena(void **state)
{
	struct kheal_ctl_arena a;
	unsigned char *p, *big;
	char *s;
	int i;

	(void)state;
	kheal_ctl_arena_init(&a);
	for (i = 0; i < 1000; i++) {
		p = kheal_ctl_alloc(&a, 100);
		assert_non_null(p);
		assert_int_equal(p[0] | p[99], 0);
		memset(p, 0xaa, 100);
	}
	big = kheal_ctl_alloc(&a, 100000);
	assert_non_null(big);
	assert_int_equal(big[99999], 0);
	s = kheal_ctl_strdup(&a, "cgroup:/a.slice");
	assert_string_equal(s, "cgroup:/a.slice");
	assert_null(kheal_ctl_strdup(&a, NULL));
	s = kheal_ctl_sprintf(&a, "%s %d", "incident", 7);
	assert_string_equal(s, "incident 7");
	assert_false(a.failed);
	assert_null(kheal_ctl_calloc(&a, SIZE_MAX / 2, 3));
	assert_true(a.failed);
	assert_null(kheal_ctl_alloc(&a, 1));
	kheal_ctl_arena_free(&a);
	assert_non_null(kheal_ctl_alloc(&a, 1));
	kheal_ctl_arena_free(&a);
}

#define T(f)	cmocka_unit_test_setup(f, fresh)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ctl_round_trip),
		T(test_ctl_unknown_op_is_einval),
		T(test_ctl_handler_error_named),
		T(test_ctl_garbage_is_einval_and_server_survives),
		T(test_ctl_silent_client_times_out),
		T(test_ctl_socket_mode_and_group),
		T(test_ctl_stranger_refused),
		T(test_ctl_member_reads_but_does_not_act),
		T(test_ctl_stale_socket_removed),
		T(test_ctl_second_listener_eaddrinuse),
		T(test_ctl_client_without_server_not_running),
		T(test_ctl_arena),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
