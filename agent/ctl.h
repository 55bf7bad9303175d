/* SPDX-License-Identifier: GPL-2.0 */
/* kheald's control socket: a server generic over its ops, and the client. */
#ifndef KHEAL_CTL_H
#define KHEAL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

#include "err.h"
#include "kheal.pb-c.h"

/*
 * The wire: a unix SOCK_SEQPACKET socket; one connection per request. The
 * client sends one packed CtlRequest in one packet, the server answers one
 * packed CtlResponse in one packet and closes. A packet is at most
 * KHEAL_CTL_MAX_PACKET bytes either way.
 *
 * Who may do what: the peer's credentials (SO_PEERCRED) at connect time.
 * uid 0 may run every op. A member of the reader group may run the ops
 * whose needs_root is false; a member is a peer whose gid is the group's,
 * whose process carries it as a supplementary group (SO_PEERGROUPS), or
 * whose user the group database lists in it (getpwuid_r, getgrouplist).
 * Anyone else gets -EACCES, with a message naming the op and what it
 * needs. The socket file is 0660 root:reader-group, or 0600 root:root
 * without a reader group; the server checks the peer all the same.
 */

#define KHEAL_CTL_DEFAULT_PATH	"/run/kheal/kheald.sock"
#define KHEAL_CTL_MAX_PACKET	(1 << 20)
/* How long the server waits for a request, or to hand over its answer. */
#define KHEAL_CTL_IO_TIMEOUT_MS	1000
/* How long the client waits for kheald's answer. */
#define KHEAL_CTL_CALL_TIMEOUT_MS	10000

struct kheal_ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool root;			/* uid 0 */
};

/*
 * Memory for one response: handlers hang strings, messages and arrays of
 * the CtlResponse they fill off it, and the server frees it all at once
 * after the response is sent. Allocations are zeroed. When one fails it
 * returns NULL and the arena remembers: the server then throws the
 * response away and answers -ENOMEM, whatever the handler returned, so
 * a handler may simply return -ENOMEM on NULL.
 */
struct kheal_ctl_chunk;

struct kheal_ctl_arena {
	struct kheal_ctl_chunk *chunks;
	bool failed;
};

void kheal_ctl_arena_init(struct kheal_ctl_arena *a);
void kheal_ctl_arena_free(struct kheal_ctl_arena *a);

void *kheal_ctl_alloc(struct kheal_ctl_arena *a, size_t size);
/* @n elements of @size bytes; NULL if that overflows. */
void *kheal_ctl_calloc(struct kheal_ctl_arena *a, size_t n, size_t size);
/* A NULL @s gives NULL, an absent field, and is no failure. */
char *kheal_ctl_strdup(struct kheal_ctl_arena *a, const char *s);
char *kheal_ctl_sprintf(struct kheal_ctl_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Fills @resp (initialized, error 0, nothing else set) for @req, which
 * @peer may run. Returns 0 or -errno: on -errno the server puts it in
 * resp->error, and if the handler left resp->message unset, a message
 * "OP: strerror". A handler may set resp->message on success too (what
 * was done). Everything the handler sets must outlive the call: static,
 * @arena's, or held by @arg until the response is sent.
 */
typedef int (*kheal_ctl_fn)(const Kheal__CtlRequest *req,
			    const struct kheal_ctl_peer *peer,
			    Kheal__CtlResponse *resp,
			    struct kheal_ctl_arena *arena, void *arg);

struct kheal_ctl_op {
	Kheal__CtlRequest__Op op;
	const char *name;		/* "approve": for messages */
	bool needs_root;		/* else the reader group may run it */
	kheal_ctl_fn fn;
};

struct kheal_ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	gid_t reader_gid;		/* (gid_t)-1: none */
	char reader_name[64];		/* the group's name, or number */
	const struct kheal_ctl_op *ops;
	size_t nops;
	void *arg;			/* for the handlers */
	unsigned char *buf;		/* one packet: the largest */
};

/*
 * Binds and listens on @path: mode 0660, group @reader_gid, or 0600 and
 * root only if @reader_gid is (gid_t)-1 (kheald says so on stderr).
 * A socket file left by a dead kheald is removed; one that someone still
 * answers on is -EADDRINUSE; anything else at @path is -EEXIST. The
 * directory must exist. @ops is used, not copied; so is @arg.
 */
int kheal_ctl_listen(struct kheal_ctl *c, const char *path, gid_t reader_gid,
		     const struct kheal_ctl_op *ops, size_t nops, void *arg,
		     struct kheal_err *err);

/* The listening socket, for poll(): POLLIN means a client is waiting. */
int kheal_ctl_fd(const struct kheal_ctl *c);

/*
 * On POLLIN: accepts one client, reads its request (waiting at most
 * KHEAL_CTL_IO_TIMEOUT_MS), checks the peer, runs the op, answers and
 * closes. A bad request (not a CtlRequest, too big, an unknown op) is
 * answered with -EINVAL and a message; a refused one with -EACCES.
 * Returns 0 when the client was answered or nobody was waiting, and
 * -errno when that one client could not be served (it sent nothing in
 * time, went away, the answer could not be sent): worth a log line; the
 * listener is unaffected either way.
 */
int kheal_ctl_handle(struct kheal_ctl *c, struct kheal_err *err);

/* Closes the listener and removes the socket file. */
void kheal_ctl_close(struct kheal_ctl *c);

/*
 * The client: sends @req to the kheald listening on @path and returns
 * its answer in *@resp (0), which the caller frees with
 * kheal__ctl_response__free_unpacked(*resp, NULL). The op's own result
 * is (*resp)->error and ->message. -ENOENT or -ECONNREFUSED: kheald is
 * not running, and the message says so; -EACCES: the socket file does
 * not let this user in.
 */
int kheal_ctl_call(const char *path, const Kheal__CtlRequest *req,
		   Kheal__CtlResponse **resp, struct kheal_err *err);

#endif
