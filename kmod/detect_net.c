// SPDX-License-Identifier: GPL-2.0
/*
 * Network device detectors for the devices of the initial network
 * namespace: carrier loss and its end, from the netdevice notifier, and
 * TX queues stopped past their watchdog timeout, from a probe on the
 * net:net_dev_xmit_timeout tracepoint.
 *
 * NETDEV_CHANGE is also sent for changes that are not the carrier's
 * (operstate, flags), and linkwatch may fold a quick loss and return into
 * one, so the notifier remembers the last carrier state of every device
 * and reports transitions only: a loss when a running device's carrier
 * goes from on to off, the end of a reported loss when a running device
 * has its carrier again.
 *
 * A fault (a loss, a timeout) is checkpointed before it is reported, with
 * no task but the device, its state and counters; the kernel log says the
 * rest. The notifier runs in process context under RTNL, as rtnetlink
 * reads the counters, so the driver's are read (dev_get_stats()); the
 * watchdog timer runs in softirq context, where a driver's ndo_get_stats64
 * could spin on a lock held by the task it interrupted, so only the
 * counters the core keeps are.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/tracepoint.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>

#include "kheal.h"

/* What kheal_net_links holds per ifindex, as an xarray value. */
#define KHEAL_NET_CARRIER	BIT(0)	/* had its carrier when last seen */
#define KHEAL_NET_LOST		BIT(1)	/* a loss was reported, not its end */

#define KHEAL_NET_CP		(KHEAL_CP_MEMORY | KHEAL_CP_LOAD | \
				 KHEAL_CP_DEVICE | KHEAL_CP_LOG)

/* Written from the notifier only, which runs under RTNL. */
static DEFINE_XARRAY(kheal_net_links);

static struct tracepoint *kheal_tp_xmit_timeout;

/*
 * ", slave of bond bond0", ", master br0" or "": runbooks match on it to
 * act on bond slaves only.
 */
static void kheal_net_master(struct net_device *master, bool bond_slave,
			     char *buf, size_t len)
{
	if (!master)
		buf[0] = '\0';
	else if (bond_slave)
		snprintf(buf, len, ", slave of bond %s", master->name);
	else
		snprintf(buf, len, ", master %s", master->name);
}

static void kheal_net_report_carrier(struct net_device *dev, bool up)
{
	struct kheal_cp_dev cp_dev = {
		.netdev = dev, .tx_queue = -1, .driver_stats = true,
	};
	char master[IFNAMSIZ + 24];
	struct kheal_event *ev;
	unsigned long flags;
	u64 cp = up ? 0 : kheal_checkpoint_take(NULL, KHEAL_NET_CP, &cp_dev);

	kheal_net_master(netdev_master_upper_dev_get(dev),
			 netif_is_bond_slave(dev), master, sizeof(master));
	ev = kheal_event_begin(KHEAL_EVENT_NETDEV_CARRIER,
			       up ? KHEAL_SEV_INFO : KHEAL_SEV_ERROR, "netdev",
			       &flags);
	kheal_event_set_checkpoint(ev, cp);
	ev->present |= KHEAL_F_DEV | KHEAL_F_DETAIL;
	strscpy(ev->dev, dev->name, sizeof(ev->dev));
	snprintf(ev->detail, sizeof(ev->detail), "carrier %s%s",
		 up ? "up" : "down", master);
	kheal_event_commit(&kheal_carrier_detector, ev, flags);
}

static int kheal_net_notify(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	unsigned long was, now;
	void *entry;

	if (!net_eq(dev_net(dev), &init_net))
		return NOTIFY_DONE;
	switch (event) {
	case NETDEV_UNREGISTER:
		xa_erase(&kheal_net_links, dev->ifindex);
		return NOTIFY_DONE;
	case NETDEV_REGISTER:
	case NETDEV_UP:
	case NETDEV_CHANGE:
		break;
	default:
		return NOTIFY_DONE;
	}

	/* Not remembered (no memory when it was seen): assume it had one. */
	entry = xa_load(&kheal_net_links, dev->ifindex);
	was = entry ? xa_to_value(entry) : KHEAL_NET_CARRIER;
	now = was & KHEAL_NET_LOST;
	if (netif_carrier_ok(dev))
		now |= KHEAL_NET_CARRIER;

	if (netif_running(dev)) {
		if (event == NETDEV_CHANGE && (was & KHEAL_NET_CARRIER) &&
		    !(now & KHEAL_NET_CARRIER)) {
			kheal_net_report_carrier(dev, false);
			now |= KHEAL_NET_LOST;
		} else if ((now & KHEAL_NET_CARRIER) &&
			   (now & KHEAL_NET_LOST)) {
			kheal_net_report_carrier(dev, true);
			now &= ~KHEAL_NET_LOST;
		}
	}
	if (!entry || now != was)
		xa_store(&kheal_net_links, dev->ifindex, xa_mk_value(now),
			 GFP_KERNEL);
	return NOTIFY_DONE;
}

static struct notifier_block kheal_net_nb = {
	.notifier_call = kheal_net_notify,
};

/* Replays NETDEV_REGISTER and NETDEV_UP: every device starts remembered. */
static int kheal_carrier_start(void)
{
	int ret;

	ret = register_netdevice_notifier(&kheal_net_nb);
	if (ret)
		pr_warn("cannot register a netdevice notifier: %d\n", ret);
	return ret;
}

/*
 * Unregistering takes RTNL, under which every notifier call runs, so none
 * is in flight afterwards; it replays NETDEV_UNREGISTER, which empties the
 * array, but a store that failed to allocate could leave nodes behind.
 */
static void kheal_carrier_stop(void)
{
	unregister_netdevice_notifier(&kheal_net_nb);
	xa_destroy(&kheal_net_links);
}

struct kheal_detector kheal_carrier_detector = {
	.name = "netdev_carrier",
	.start = kheal_carrier_start,
	.stop = kheal_carrier_stop,
};

/* From dev_watchdog(), a timer, with the device's tx_global_lock held. */
static void kheal_net_xmit_timeout_probe(void *data, struct net_device *dev,
					 int queue_index)
{
	struct kheal_cp_dev cp_dev = {
		.netdev = dev, .tx_queue = queue_index, .driver_stats = false,
	};
	struct net_device *upper;
	char master[IFNAMSIZ + 24];
	struct kheal_event *ev;
	unsigned long flags;
	u64 cp;

	if (!net_eq(dev_net(dev), &init_net))
		return;
	cp = kheal_checkpoint_take(NULL, KHEAL_NET_CP, &cp_dev);
	rcu_read_lock();
	upper = netdev_master_upper_dev_get_rcu(dev);
	kheal_net_master(upper, netif_is_bond_slave(dev), master,
			 sizeof(master));
	rcu_read_unlock();

	ev = kheal_event_begin(KHEAL_EVENT_NETDEV_TX_TIMEOUT, KHEAL_SEV_ERROR,
			       "netdev", &flags);
	kheal_event_set_checkpoint(ev, cp);
	ev->present |= KHEAL_F_DEV | KHEAL_F_QUEUE | KHEAL_F_DETAIL;
	strscpy(ev->dev, dev->name, sizeof(ev->dev));
	ev->queue = queue_index;
	snprintf(ev->detail, sizeof(ev->detail), "TX queue %d timed out%s",
		 queue_index, master);
	kheal_event_commit(&kheal_tx_timeout_detector, ev, flags);
}

static void kheal_net_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "net_dev_xmit_timeout"))
		*(struct tracepoint **)priv = tp;
}

static int kheal_tx_timeout_start(void)
{
	int ret;

	kheal_tp_xmit_timeout = NULL;
	for_each_kernel_tracepoint(kheal_net_find_tp, &kheal_tp_xmit_timeout);
	if (!kheal_tp_xmit_timeout) {
		pr_warn("tracepoint net:net_dev_xmit_timeout not found\n");
		return -ENOENT;
	}
	ret = tracepoint_probe_register(kheal_tp_xmit_timeout,
					kheal_net_xmit_timeout_probe, NULL);
	if (ret)
		pr_warn("cannot attach to net:net_dev_xmit_timeout: %d\n", ret);
	return ret;
}

static void kheal_tx_timeout_stop(void)
{
	tracepoint_probe_unregister(kheal_tp_xmit_timeout,
				    kheal_net_xmit_timeout_probe, NULL);
	/* No probe may still run once the module text can go. */
	tracepoint_synchronize_unregister();
}

struct kheal_detector kheal_tx_timeout_detector = {
	.name = "netdev_tx_timeout",
	.start = kheal_tx_timeout_start,
	.stop = kheal_tx_timeout_stop,
};
