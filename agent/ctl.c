// SPDX-License-Identifier: GPL-2.0
/*
 * kheald's control socket (ctl.h): a unix SOCK_SEQPACKET listener that
 * answers one CtlRequest per connection through a table of ops, checking
 * the peer's credentials first; and the client khealctl calls it with.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctl.h"

/* Arena */

#define CHUNK_SIZE	16384

struct kheal_ctl_chunk {
	struct kheal_ctl_chunk *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

void kheal_ctl_arena_init(struct kheal_ctl_arena *a)
{
	*a = (struct kheal_ctl_arena){ 0 };
}

void kheal_ctl_arena_free(struct kheal_ctl_arena *a)
{
	struct kheal_ctl_chunk *ch, *next;

	for (ch = a->chunks; ch; ch = next) {
		next = ch->next;
		free(ch);
	}
	kheal_ctl_arena_init(a);
}

void *kheal_ctl_alloc(struct kheal_ctl_arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct kheal_ctl_chunk *ch = a->chunks;
	size_t cap;
	void *p;

	if (a->failed)
		return NULL;
	if (size > SIZE_MAX - CHUNK_SIZE - align) {
		a->failed = true;
		return NULL;
	}
	size = (size + align - 1) & ~(align - 1);
	if (!ch || ch->cap - ch->used < size) {
		cap = size > CHUNK_SIZE ? size : CHUNK_SIZE;
		ch = malloc(sizeof(*ch) + cap);
		if (!ch) {
			a->failed = true;
			return NULL;
		}
		ch->used = 0;
		ch->cap = cap;
		/* A big block's own chunk goes second: keep the first's room. */
		if (a->chunks && cap > CHUNK_SIZE) {
			ch->next = a->chunks->next;
			a->chunks->next = ch;
		} else {
			ch->next = a->chunks;
			a->chunks = ch;
		}
	}
	p = (char *)ch->data + ch->used;
	ch->used += size;
	return memset(p, 0, size);
}

void *kheal_ctl_calloc(struct kheal_ctl_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		a->failed = true;
		return NULL;
	}
	return kheal_ctl_alloc(a, n * size);
}

char *kheal_ctl_strdup(struct kheal_ctl_arena *a, const char *s)
{
	size_t len;
	char *p;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	p = kheal_ctl_alloc(a, len);
	return p ? memcpy(p, s, len) : NULL;
}

char *kheal_ctl_sprintf(struct kheal_ctl_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		a->failed = true;
		return NULL;
	}
	p = kheal_ctl_alloc(a, n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* Socket plumbing */

static int set_timeout(int fd, int opt, unsigned int ms)
{
	struct timeval tv = {
		.tv_sec = ms / 1000,
		.tv_usec = (ms % 1000) * 1000,
	};

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) ? -errno : 0;
}

static int ctl_addr(const char *path, struct sockaddr_un *sa,
		    struct kheal_err *err)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (!*path || strlen(path) >= sizeof(sa->sun_path))
		return kheal_err_set(err, ENAMETOOLONG,
				     "control socket '%s': the path must be 1 to %zu bytes",
				     path, sizeof(sa->sun_path) - 1);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/*
 * A socket file at @path is stale if nobody answers on it: then it goes.
 * 0 if @path is free now.
 */
static int clear_stale(const char *path, const struct sockaddr_un *sa,
		       struct kheal_err *err)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 :
		       kheal_err_set(err, errno, "control socket %s: %s",
				     path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return kheal_err_set(err, EEXIST,
				     "control socket %s: the path exists and is not a socket; remove it or choose another path",
				     path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kheal_err_set(err, errno, "control socket %s: socket: %s",
				     path, strerror(errno));
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? errno : 0;
	close(fd);
	if (ret == ECONNREFUSED) {
		if (unlink(path) && errno != ENOENT)
			return kheal_err_set(err, errno,
					     "control socket %s: removing the stale socket: %s",
					     path, strerror(errno));
		return 0;
	}
	if (ret == ENOENT)
		return 0;
	if (!ret || ret == EAGAIN || ret == EPROTOTYPE)
		return kheal_err_set(err, EADDRINUSE,
				     "control socket %s: another process (another kheald?) is listening on it; stop it first",
				     path);
	return kheal_err_set(err, ret, "control socket %s: connect: %s", path,
			     strerror(ret));
}

int kheal_ctl_listen(struct kheal_ctl *c, const char *path, gid_t reader_gid,
		     const struct kheal_ctl_op *ops, size_t nops, void *arg,
		     struct kheal_err *err)
{
	mode_t mode = reader_gid == (gid_t)-1 ? 0600 : 0660;
	struct group grp, *gr = NULL;
	struct sockaddr_un sa;
	const char *what;
	char grbuf[4096];
	int ret;

	*c = (struct kheal_ctl){
		.fd = -1, .reader_gid = reader_gid, .ops = ops, .nops = nops,
		.arg = arg,
	};
	ret = ctl_addr(path, &sa, err);
	if (ret)
		return ret;
	memcpy(c->path, sa.sun_path, sizeof(c->path));
	if (reader_gid != (gid_t)-1) {
		if (!getgrgid_r(reader_gid, &grp, grbuf, sizeof(grbuf), &gr) &&
		    gr)
			snprintf(c->reader_name, sizeof(c->reader_name), "%s",
				 gr->gr_name);
		else
			snprintf(c->reader_name, sizeof(c->reader_name), "%u",
				 (unsigned int)reader_gid);
	}
	c->buf = malloc(KHEAL_CTL_MAX_PACKET);
	if (!c->buf)
		return kheal_err_set(err, ENOMEM, "control socket %s: %s", path,
				     strerror(ENOMEM));
	ret = clear_stale(path, &sa, err);
	if (ret)
		goto out_free;
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (c->fd < 0) {
		what = "socket";
		goto out_errno;
	}
	/* Born private: the file takes the socket's mode, less the umask. */
	what = "fchmod";
	if (fchmod(c->fd, 0600))
		goto out_errno;
	what = "bind";
	if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto out_errno;
	what = "chown";
	if (reader_gid != (gid_t)-1 && chown(path, (uid_t)-1, reader_gid))
		goto out_unlink;
	what = "chmod";
	if (chmod(path, mode))
		goto out_unlink;
	what = "listen";
	if (listen(c->fd, 64))
		goto out_unlink;
	return 0;

out_unlink:
	ret = -errno;
	unlink(path);
	goto out_close;
out_errno:
	ret = -errno;
out_close:
	kheal_err_set(err, -ret, "control socket %s: %s: %s", path, what,
		      strerror(-ret));
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
out_free:
	free(c->buf);
	c->buf = NULL;
	return ret;
}

int kheal_ctl_fd(const struct kheal_ctl *c)
{
	return c->fd;
}

void kheal_ctl_close(struct kheal_ctl *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		unlink(c->path);
	}
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

/* Membership of the reader group */

static bool in_groups(const gid_t *v, size_t n, gid_t gid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == gid)
			return true;
	return false;
}

/* The groups the peer's process carried when it connected. */
static bool peer_groups_have(int conn, gid_t gid)
{
	gid_t small[64], *v = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(conn, SOL_SOCKET, SO_PEERGROUPS, v, &len)) {
		if (errno != ERANGE)
			return false;
		v = malloc(len);
		if (!v || getsockopt(conn, SOL_SOCKET, SO_PEERGROUPS, v,
				     &len)) {
			free(v);
			return false;
		}
	}
	found = in_groups(v, len / sizeof(*v), gid);
	if (v != small)
		free(v);
	return found;
}

/* The groups the user database gives @uid. */
static bool user_groups_have(uid_t uid, gid_t gid)
{
	struct passwd pw, *pwp = NULL;
	gid_t *groups = NULL;
	bool found = false;
	int n = 64, prev;
	char buf[16384];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) || !pwp)
		return false;
	if (pw.pw_gid == gid)
		return true;
	for (;;) {
		free(groups);
		groups = malloc(n * sizeof(*groups));
		if (!groups)
			return false;
		prev = n;
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) >= 0)
			break;
		/* glibc sets n to the count it needs; guard against less. */
		if (n <= prev)
			n = prev * 2;
		if (n > NGROUPS_MAX + 1)
			goto out;
	}
	found = in_groups(groups, n, gid);
out:
	free(groups);
	return found;
}

static bool peer_is_reader(const struct kheal_ctl *c, int conn,
			   const struct kheal_ctl_peer *peer)
{
	gid_t gid = c->reader_gid;

	if (gid == (gid_t)-1)
		return false;
	return peer->gid == gid || peer_groups_have(conn, gid) ||
	       user_groups_have(peer->uid, gid);
}

/* Serving one client */

static const struct kheal_ctl_op *find_op(const struct kheal_ctl *c, int op)
{
	size_t i;

	for (i = 0; i < c->nops; i++)
		if ((int)c->ops[i].op == op)
			return &c->ops[i];
	return NULL;
}

/* -EINVAL or -EACCES, with the message for the client, or 0. */
static int check_request(const struct kheal_ctl *c, int conn,
			 const Kheal__CtlRequest *req,
			 const struct kheal_ctl_peer *peer,
			 const struct kheal_ctl_op **op, struct kheal_err *err)
{
	*op = find_op(c, req->op);
	if (!req->has_op || req->op == KHEAL__CTL_REQUEST__OP__OP_UNSPEC)
		return kheal_err_set(err, EINVAL, "the request names no op");
	if (!*op)
		return kheal_err_set(err, EINVAL,
				     "unknown op %d: this kheald does not serve it",
				     (int)req->op);
	if (peer->root)
		return 0;
	if ((*op)->needs_root)
		return kheal_err_set(err, EACCES, "%s needs root (you are uid %u)",
				     (*op)->name, (unsigned int)peer->uid);
	if (peer_is_reader(c, conn, peer))
		return 0;
	if (c->reader_gid == (gid_t)-1)
		return kheal_err_set(err, EACCES,
				     "%s needs root: kheald has no reader group (you are uid %u)",
				     (*op)->name, (unsigned int)peer->uid);
	return kheal_err_set(err, EACCES,
			     "%s needs root or membership in group %s (you are uid %u)",
			     (*op)->name, c->reader_name,
			     (unsigned int)peer->uid);
}

static void set_error(Kheal__CtlResponse *resp, int ret, char *message)
{
	resp->has_error = true;
	resp->error = ret;
	resp->message = message;
}

/* Runs the op of a request that passed the checks. */
static void dispatch(const struct kheal_ctl *c, const struct kheal_ctl_op *op,
		     const Kheal__CtlRequest *req,
		     const struct kheal_ctl_peer *peer,
		     Kheal__CtlResponse *resp, struct kheal_ctl_arena *arena,
		     struct kheal_err *msg)
{
	int ret = op->fn(req, peer, resp, arena, c->arg);

	if (arena->failed) {
		kheal__ctl_response__init(resp);
		kheal_err_set(msg, ENOMEM, "%s: out of memory building the answer",
			      op->name);
		set_error(resp, -ENOMEM, msg->msg);
		return;
	}
	resp->has_error = true;
	resp->error = ret > 0 ? 0 : ret;
	if (ret < 0 && !resp->message) {
		kheal_err_set(msg, -ret, "%s: %s", op->name, strerror(-ret));
		resp->message = msg->msg;
	}
}

/* Sends @resp, or an error in its place if it is too big to send. */
static int send_answer(struct kheal_ctl *c, int conn, const char *op,
		       Kheal__CtlResponse *resp, struct kheal_err *msg)
{
	size_t len = kheal__ctl_response__get_packed_size(resp);
	Kheal__CtlResponse small = KHEAL__CTL_RESPONSE__INIT;
	ssize_t n;

	if (len > KHEAL_CTL_MAX_PACKET) {
		kheal_err_set(msg, EMSGSIZE,
			      "%s: the answer (%zu bytes) is over the %d-byte limit",
			      op, len, KHEAL_CTL_MAX_PACKET);
		set_error(&small, -EMSGSIZE, msg->msg);
		resp = &small;
		len = kheal__ctl_response__get_packed_size(resp);
	}
	for (;;) {
		kheal__ctl_response__pack(resp, c->buf);
		n = send(conn, c->buf, len, MSG_NOSIGNAL);
		if (n >= 0 || errno != EMSGSIZE || resp == &small)
			break;
		/* More than the socket buffer takes: say so instead. */
		kheal_err_set(msg, EMSGSIZE,
			      "%s: the answer (%zu bytes) is too big for the socket buffer",
			      op, len);
		set_error(&small, -EMSGSIZE, msg->msg);
		resp = &small;
		len = kheal__ctl_response__get_packed_size(resp);
	}
	return n < 0 ? -errno : 0;
}

/* True if the peer has closed its end: nobody waits for an answer. */
static bool peer_gone(int conn)
{
	struct pollfd pfd = { .fd = conn, .events = POLLRDHUP };

	return poll(&pfd, 1, 0) == 1 &&
	       (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

static void tune_conn(int conn)
{
	int size = KHEAL_CTL_MAX_PACKET + 65536;

	set_timeout(conn, SO_RCVTIMEO, KHEAL_CTL_IO_TIMEOUT_MS);
	set_timeout(conn, SO_SNDTIMEO, KHEAL_CTL_IO_TIMEOUT_MS);
	/* Root may lift the wmem_max cap; the answer needs that room. */
	if (setsockopt(conn, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(conn, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int serve(struct kheal_ctl *c, int conn,
		 const struct kheal_ctl_peer *peer, struct kheal_err *err)
{
	Kheal__CtlResponse resp = KHEAL__CTL_RESPONSE__INIT;
	Kheal__CtlRequest *req = NULL;
	const struct kheal_ctl_op *op = NULL;
	struct kheal_ctl_arena arena;
	struct kheal_err msg = { "" };
	const char *name = "request";
	ssize_t n;
	int ret;

	n = recv(conn, c->buf, KHEAL_CTL_MAX_PACKET, MSG_TRUNC);
	if (n < 0) {
		ret = errno == EAGAIN ? ETIMEDOUT : errno;
		return kheal_err_set(err, ret,
				     "control socket %s: pid %d (uid %u) sent no request%s: %s",
				     c->path, (int)peer->pid,
				     (unsigned int)peer->uid,
				     ret == ETIMEDOUT ? " in time" : "",
				     strerror(ret));
	}
	if (!n && peer_gone(conn))
		return 0;

	kheal_ctl_arena_init(&arena);
	if (n <= KHEAL_CTL_MAX_PACKET)
		req = kheal__ctl_request__unpack(NULL, n, c->buf);
	ret = req ? check_request(c, conn, req, peer, &op, &msg) : -EINVAL;
	if (n > KHEAL_CTL_MAX_PACKET)
		kheal_err_set(&msg, EINVAL,
			      "the request (%zd bytes) is over the %d-byte limit",
			      n, KHEAL_CTL_MAX_PACKET);
	else if (!req)
		kheal_err_set(&msg, EINVAL,
			      "the request (%zd bytes) is not a CtlRequest",
			      n);
	if (ret) {
		set_error(&resp, ret, msg.msg);
	} else {
		name = op->name;
		dispatch(c, op, req, peer, &resp, &arena, &msg);
	}

	ret = send_answer(c, conn, name, &resp, &msg);
	if (ret)
		kheal_err_set(err, -ret,
			      "control socket %s: answering pid %d (uid %u): %s",
			      c->path, (int)peer->pid, (unsigned int)peer->uid,
			      strerror(-ret));
	kheal_ctl_arena_free(&arena);
	if (req)
		kheal__ctl_request__free_unpacked(req, NULL);
	return ret;
}

int kheal_ctl_handle(struct kheal_ctl *c, struct kheal_err *err)
{
	struct kheal_ctl_peer peer;
	socklen_t len;
	struct ucred cred;
	int conn, ret;

	conn = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED)
			return 0;
		return kheal_err_set(err, errno, "control socket %s: accept: %s",
				     c->path, strerror(errno));
	}
	len = sizeof(cred);
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		ret = kheal_err_set(err, errno,
				    "control socket %s: SO_PEERCRED: %s",
				    c->path, strerror(errno));
		goto out;
	}
	peer = (struct kheal_ctl_peer){
		.pid = cred.pid, .uid = cred.uid, .gid = cred.gid,
		.root = cred.uid == 0,
	};
	tune_conn(conn);
	ret = serve(c, conn, &peer, err);
out:
	close(conn);
	return ret;
}

/* The client */

int kheal_ctl_call(const char *path, const Kheal__CtlRequest *req,
		   Kheal__CtlResponse **resp, struct kheal_err *err)
{
	size_t len = kheal__ctl_request__get_packed_size(req);
	unsigned char *buf = NULL;
	struct sockaddr_un sa;
	int fd, ret;
	ssize_t n;

	*resp = NULL;
	ret = ctl_addr(path, &sa, err);
	if (ret)
		return ret;
	if (len > KHEAL_CTL_MAX_PACKET)
		return kheal_err_set(err, EMSGSIZE,
				     "the request (%zu bytes) is over the %d-byte limit",
				     len, KHEAL_CTL_MAX_PACKET);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kheal_err_set(err, errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ECONNREFUSED)
			kheal_err_set(err, -ret,
				      "kheald is not running (nothing answers on %s)",
				      path);
		else if (ret == -EACCES)
			kheal_err_set(err, EACCES,
				      "%s: permission denied: kheald answers root and members of its reader group (kheal)",
				      path);
		else
			kheal_err_set(err, -ret, "connecting to kheald on %s: %s",
				      path, strerror(-ret));
		goto out;
	}
	buf = malloc(KHEAL_CTL_MAX_PACKET);
	if (!buf) {
		ret = kheal_err_set(err, ENOMEM, "%s", strerror(ENOMEM));
		goto out;
	}
	kheal__ctl_request__pack(req, buf);
	if (send(fd, buf, len, MSG_NOSIGNAL) < 0) {
		ret = kheal_err_set(err, errno, "sending to kheald on %s: %s",
				    path, strerror(errno));
		goto out;
	}
	ret = set_timeout(fd, SO_RCVTIMEO, KHEAL_CTL_CALL_TIMEOUT_MS);
	if (ret) {
		kheal_err_set(err, -ret, "SO_RCVTIMEO: %s", strerror(-ret));
		goto out;
	}
	n = recv(fd, buf, KHEAL_CTL_MAX_PACKET, MSG_TRUNC);
	if (n > 0 && n <= KHEAL_CTL_MAX_PACKET)
		*resp = kheal__ctl_response__unpack(NULL, n, buf);
	if (n < 0 && errno == EAGAIN)
		ret = kheal_err_set(err, ETIMEDOUT,
				    "kheald on %s did not answer within %d ms",
				    path, KHEAL_CTL_CALL_TIMEOUT_MS);
	else if (n < 0)
		ret = kheal_err_set(err, errno,
				    "receiving from kheald on %s: %s", path,
				    strerror(errno));
	else if (!n)
		ret = kheal_err_set(err, ECONNRESET,
				    "kheald on %s closed the connection without answering",
				    path);
	else if (n > KHEAL_CTL_MAX_PACKET)
		ret = kheal_err_set(err, EMSGSIZE,
				    "kheald's answer on %s (%zd bytes) is over the %d-byte limit",
				    path, n, KHEAL_CTL_MAX_PACKET);
	else if (!*resp)
		ret = kheal_err_set(err, EBADMSG,
				    "kheald's answer on %s (%zd bytes) is not a CtlResponse",
				    path, n);
out:
	free(buf);
	close(fd);
	return ret;
}
