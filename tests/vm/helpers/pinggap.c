// SPDX-License-Identifier: GPL-2.0
/*
 * pinggap: pings an address every few ms, causes a link fault itself at
 * a known time, and reports the longest time without an answer, while it
 * watches a bond fail over: when a slave went down, when the bond's
 * active slave changed, when a file (kheald's journal) was next written.
 * Times are CLOCK_BOOTTIME, the clock of kheal's events; answers are
 * timed by the kernel as they arrive (SO_TIMESTAMPNS), and pinggap runs
 * SCHED_FIFO, so a busy machine delays its looks less.
 *
 * Usage: pinggap [-i MS] [-w MS] [-f NETNS:DEV] [-s SLAVE] [-b BOND]
 *                [-j FILE] ADDR
 *        pinggap -n        prints CLOCK_BOOTTIME in ns
 *
 * It prints "ready" once ADDR answered. With -f, -w ms later (1000) it
 * sets DEV, in the network namespace ip-netns(8) calls NETNS, down through
 * rtnetlink: the fault; "fault" then. It runs until SIGINT or SIGTERM and
 * prints one line of key=value: sent, received, gap_ms (the outage: the
 * longest time between two answers that overlaps the time from the fault
 * to the failover, or to the end if there was none), gap_from_ns,
 * gap_to_ns, base_gap_ms (the longest before the fault: the noise),
 * last_ns (the last answer), onset_ns (just before the fault was asked), onset_end_ns
 * (the kernel had done it; it drops a veth's carrier last), down_ns
 * (SLAVE lost IFF_UP), active_from, active_to, active_ns (BOND's active
 * slave changed), journal_ns (FILE written at or after active_ns). 0 for
 * what did not happen. Links are looked at every millisecond.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define NAME_LEN	32
#define MS		1000000ULL
#define MAX_REPLIES	1000000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

static void die(const char *what)
{
	fprintf(stderr, "pinggap: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The first line of @path, without its newline; "" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static uint16_t checksum(const void *p, size_t len)
{
	const uint16_t *w = p;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	if (len)
		sum += *(const uint8_t *)w;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static void send_echo(int fd, const struct sockaddr_in *to, uint16_t id,
		      uint16_t seq)
{
	struct icmphdr h = { .type = ICMP_ECHO };

	h.un.echo.id = htons(id);
	h.un.echo.sequence = htons(seq);
	h.checksum = checksum(&h, sizeof(h));
	sendto(fd, &h, sizeof(h), MSG_DONTWAIT, (const struct sockaddr *)to,
	       sizeof(*to));
}

/*
 * 1 and the kernel's arrival time in *@at (CLOCK_REALTIME) if what @fd
 * holds is an echo reply of ours; 0 if something else; -1 if nothing.
 */
static int recv_reply(int fd, uint16_t id, uint64_t *at)
{
	char buf[1500], ctl[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	const struct iphdr *ip = (const void *)buf;
	const struct icmphdr *h;
	struct cmsghdr *c;
	struct timespec ts;
	ssize_t n;

	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return -1;
	if (n < (ssize_t)sizeof(*ip) || n < ip->ihl * 4 + (ssize_t)sizeof(*h))
		return 0;
	h = (const void *)(buf + ip->ihl * 4);
	if (h->type != ICMP_ECHOREPLY || ntohs(h->un.echo.id) != id)
		return 0;
	*at = 0;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*at = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		}
	return 1;
}

/* A NETLINK_ROUTE socket in netns @ns, and @dev's ifindex there. */
static int netns_rtnl(const char *ns, const char *dev, int *ifindex)
{
	char path[128];
	int self, other, fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	other = open(path, O_RDONLY | O_CLOEXEC);
	if (other < 0) {
		snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
		other = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (self < 0 || other < 0)
		die(path);
	if (setns(other, CLONE_NEWNET))
		die("setns");
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	*ifindex = if_nametoindex(dev);
	if (fd < 0 || !*ifindex)
		die(dev);
	if (setns(self, CLONE_NEWNET))
		die("setns back");
	close(self);
	close(other);
	return fd;
}

/* Sets @ifindex down through @fd and waits for the kernel's ack. */
static void link_down(int fd, int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_NEWLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
			.nlmsg_seq = 1,
		},
		.ifi = {
			.ifi_family = AF_UNSPEC,
			.ifi_index = ifindex,
			.ifi_change = IFF_UP,
		},
	};
	char buf[512];
	struct nlmsgerr *e = NLMSG_DATA((struct nlmsghdr *)buf);

	if (send(fd, &req, sizeof(req), 0) < 0 ||
	    recv(fd, buf, sizeof(buf), 0) < (ssize_t)NLMSG_LENGTH(sizeof(*e)))
		die("setting the link down");
	if (e->error) {
		errno = -e->error;
		die("setting the link down");
	}
}

int main(int argc, char **argv)
{
	const char *slave = NULL, *bond = NULL, *file = NULL;
	char *fault = NULL, *fault_dev = NULL;
	char path[128], val[64], active0[NAME_LEN] = "", active[NAME_LEN];
	uint64_t t, at, next, fault_at = 0, last_reply = 0, gap = 0, end;
	uint64_t *replies;
	size_t i;
	uint64_t gap_from = 0, gap_to = 0, base = 0, onset = 0, onset_end = 0;
	uint64_t down_ns = 0, active_ns = 0, journal_ns = 0;
	unsigned long sent = 0, received = 0, interval_ms = 10, wait_ms = 1000;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct sched_param sp = { .sched_priority = 50 };
	int64_t real_to_boot;
	struct pollfd pfd[2];
	struct sigaction sa;
	int opt, fd, nl = -1, ifindex = 0, ino = -1, one = 1, ret;
	uint16_t id = getpid() & 0xffff;

	while ((opt = getopt(argc, argv, "ni:w:f:s:b:j:")) != -1) {
		switch (opt) {
		case 'n':
			printf("%llu\n", (unsigned long long)now_ns());
			return 0;
		case 'i':
			interval_ms = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			wait_ms = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			fault = optarg;
			break;
		case 's':
			slave = optarg;
			break;
		case 'b':
			bond = optarg;
			break;
		case 'j':
			file = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || !interval_ms ||
	    inet_pton(AF_INET, argv[optind], &to.sin_addr) != 1)
		goto usage;
	if (fault) {
		fault_dev = strchr(fault, ':');
		if (!fault_dev)
			goto usage;
		*fault_dev++ = '\0';
		nl = netns_rtnl(fault, fault_dev, &ifindex);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		fprintf(stderr, "pinggap: no SCHED_FIFO (%s); timing as it comes\n",
			strerror(errno));
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)))
		die("raw ICMP socket");
	if (file) {
		ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (ino < 0 || inotify_add_watch(ino, file, IN_MODIFY) < 0)
			die(file);
	}
	if (bond) {
		snprintf(path, sizeof(path),
			 "/sys/class/net/%s/bonding/active_slave", bond);
		read_line(path, active0, sizeof(active0));
	}
	replies = malloc(MAX_REPLIES * sizeof(*replies));
	if (!replies)
		die("malloc");
	real_to_boot = (int64_t)(now_ns() - clock_ns(CLOCK_REALTIME));
	pfd[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = ino, .events = POLLIN };

	next = now_ns();
	while (!stop) {
		t = now_ns();
		if (t >= next) {
			send_echo(fd, &to, id, sent++);
			next += interval_ms * MS;
			if (next < t)
				next = t + interval_ms * MS;
		}
		if (fault_at && !onset && t >= fault_at) {
			onset = now_ns();
			link_down(nl, ifindex);
			onset_end = now_ns();
			printf("fault\n");
			fflush(stdout);
		}
		poll(pfd, file ? 2 : 1, 1);
		t = now_ns();
		while ((ret = recv_reply(fd, id, &at)) >= 0) {
			if (!ret)
				continue;
			at = at ? at + real_to_boot : t;
			if (received < MAX_REPLIES)
				replies[received] = at;
			last_reply = at;
			if (!received++) {
				fault_at = t + wait_ms * MS;
				printf("ready\n");
				fflush(stdout);
			}
		}
		if (slave && !down_ns) {
			snprintf(path, sizeof(path), "/sys/class/net/%s/flags",
				 slave);
			read_line(path, val, sizeof(val));
			if (!(strtoul(val, NULL, 16) & IFF_UP))
				down_ns = t;
		}
		if (bond && !active_ns) {
			snprintf(path, sizeof(path),
				 "/sys/class/net/%s/bonding/active_slave", bond);
			read_line(path, active, sizeof(active));
			if (strcmp(active, active0))
				active_ns = t;
		}
		/* After the bond: a write in the same look counts. */
		if (file && (pfd[1].revents & POLLIN)) {
			char ev[4096];

			while (read(ino, ev, sizeof(ev)) > 0)
				;
			if (active_ns && !journal_ns)
				journal_ns = t;
		}
	}
	if (bond) {
		snprintf(path, sizeof(path),
			 "/sys/class/net/%s/bonding/active_slave", bond);
		read_line(path, active, sizeof(active));
	}
	/* A stray answer just after the fault does not end the outage. */
	end = active_ns ? active_ns : now_ns();
	for (i = 1; i < received && i < MAX_REPLIES; i++) {
		uint64_t from = replies[i - 1], to = replies[i];

		if (onset && from < end && to > onset) {
			if (to - from > gap) {
				gap = to - from;
				gap_from = from;
				gap_to = to;
			}
		} else if (!onset || to <= onset) {
			if (to - from > base)
				base = to - from;
		}
	}
	printf("sent=%lu received=%lu gap_ms=%llu.%llu gap_from_ns=%llu gap_to_ns=%llu base_gap_ms=%llu.%llu last_ns=%llu onset_ns=%llu onset_end_ns=%llu down_ns=%llu active_from=%s active_to=%s active_ns=%llu journal_ns=%llu\n",
	       sent, received, (unsigned long long)(gap / MS),
	       (unsigned long long)(gap / 100000 % 10),
	       (unsigned long long)gap_from, (unsigned long long)gap_to,
	       (unsigned long long)(base / MS),
	       (unsigned long long)(base / 100000 % 10),
	       (unsigned long long)last_reply,
	       (unsigned long long)onset, (unsigned long long)onset_end,
	       (unsigned long long)down_ns, active0[0] ? active0 : "-",
	       bond ? active : "-", (unsigned long long)active_ns,
	       (unsigned long long)journal_ns);
	return 0;
usage:
	fprintf(stderr,
		"usage: pinggap [-i MS] [-w MS] [-f NETNS:DEV] [-s SLAVE] [-b BOND] [-j FILE] ADDR\n"
		"       pinggap -n\n");
	return 2;
}
