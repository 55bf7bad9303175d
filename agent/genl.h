/* SPDX-License-Identifier: GPL-2.0 */
/* Generic netlink plumbing for the kheal family (libnl-genl-3). */
#ifndef KHEAL_GENL_H
#define KHEAL_GENL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/kheal.h>
#include <linux/netlink.h>
#include <netlink/attr.h>

#include "err.h"
#include "event.h"

/* Longest detector name and module version the agent keeps. */
#define KHEAL_NAME_LEN			64
#define KHEAL_STATUS_MAX_DETECTORS	32

struct kheal_detector_status {
	char name[KHEAL_NAME_LEN];
	uint32_t active;
	uint64_t events;
};

struct kheal_status {
	char version[KHEAL_NAME_LEN];
	uint64_t instance;
	uint64_t head_seq;
	uint64_t oldest_seq;
	uint64_t events_emitted;
	uint64_t events_dropped;
	uint64_t mcast_failed;
	uint32_t backlog_size;
	uint32_t hung_ms;
	uint32_t allow_inject;
	unsigned int ndetectors;
	struct kheal_detector_status detectors[KHEAL_STATUS_MAX_DETECTORS];
};

struct kheal_inject {
	uint32_t type;			/* enum kheal_inject_type */
	uint64_t duration_ms;		/* KHEAL_INJECT_HUNG_TASK */
	uint32_t count;			/* KHEAL_INJECT_BURST */
};

struct kheal_inject_reply {
	uint32_t pid;
	char comm[KHEAL_COMM_LEN];	/* "" if the reply had none */
};

/* A checkpoint, as GET_CHECKPOINT answers. */
struct kheal_checkpoint {
	uint64_t id;
	uint64_t instance;		/* the module load that took it */
	uint64_t time_ns;		/* CLOCK_BOOTTIME; 0 if not sent */
	char text[KHEAL_CHECKPOINT_TEXT_LEN];
};

/* A command socket: requests and their replies, never multicast. */
struct kheal_genl {
	struct nl_sock *sk;
	int family;			/* 0 until kheal_genl_resolve() */
	int events_group;
};

/*
 * Called for each reply message; a negative return is kept and
 * returned once the reply has been read to its end.
 */
typedef int (*kheal_genl_msg_cb)(struct nlmsghdr *nlh, void *arg);

/* The family-wide attribute policy, and attribute names for errors. */
extern const struct nla_policy kheal_genl_policy[KHEAL_A_MAX + 1];
const char *kheal_genl_attr_name(int attr);

int kheal_genl_open(struct kheal_genl *g, struct kheal_err *err);
void kheal_genl_close(struct kheal_genl *g);

/* Looks up the family and its group: -ENOENT if the module is absent. */
int kheal_genl_resolve(struct kheal_genl *g, struct kheal_err *err);

int kheal_genl_status(struct kheal_genl *g, struct kheal_status *st,
		      struct kheal_err *err);
/* Backlog events with seq > @since, oldest first, one @cb each. */
int kheal_genl_dump_events(struct kheal_genl *g, uint64_t since,
			   kheal_genl_msg_cb cb, void *arg,
			   struct kheal_err *err);
int kheal_genl_set_hung_ms(struct kheal_genl *g, uint32_t hung_ms,
			   struct kheal_err *err);
int kheal_genl_inject(struct kheal_genl *g, const struct kheal_inject *req,
		      struct kheal_inject_reply *rep, struct kheal_err *err);
/*
 * Checkpoint @id of module instance @instance (0: of whichever is
 * loaded) into @cp. Needs CAP_NET_ADMIN (else -EPERM). -ENOENT when the
 * module holds no such checkpoint: not taken yet, gone from its ring, or
 * of another instance; @err then gives the kernel's reason.
 */
int kheal_genl_get_checkpoint(struct kheal_genl *g, uint64_t instance,
			      uint64_t id, struct kheal_checkpoint *cp,
			      struct kheal_err *err);

/*
 * Parses a KHEAL_CMD_EVENT message. On -EBADMSG @ev still holds every
 * attribute that was valid, so a caller can tell which seq was bad.
 */
int kheal_genl_parse_event(struct nlmsghdr *nlh, struct kheal_event *ev,
			   struct kheal_err *err);
int kheal_genl_parse_status(struct nlmsghdr *nlh, struct kheal_status *st,
			    struct kheal_err *err);
int kheal_genl_parse_checkpoint(struct nlmsghdr *nlh,
				struct kheal_checkpoint *cp,
				struct kheal_err *err);

/* The kernel's extended ACK message of an NLMSG_ERROR, or "". */
void kheal_genl_extack(const struct nlmsghdr *nlh, char *buf, size_t len);

/*
 * An nlctrl notification about family @name: CTRL_CMD_NEWFAMILY or
 * CTRL_CMD_DELFAMILY; 0 for anything else.
 */
int kheal_genl_family_notify(struct nlmsghdr *nlh, const char *name);

/*
 * A listening socket: non-blocking, a large receive buffer, joined to
 * nlctrl's "notify" group so it sees families come and go.
 */
int kheal_genl_listen_open(struct nl_sock **skp, struct kheal_err *err);
int kheal_genl_listen_join(struct nl_sock *sk, int group,
			   struct kheal_err *err);
int kheal_genl_listen_fd(struct nl_sock *sk);
/*
 * Bytes of kernel messages read, 0 if none is waiting, or -errno:
 * -ENOBUFS means the socket overflowed and multicasts were lost.
 */
ssize_t kheal_genl_listen_recv(struct nl_sock *sk, void *buf, size_t len);
void kheal_genl_listen_close(struct nl_sock *sk);

#endif
