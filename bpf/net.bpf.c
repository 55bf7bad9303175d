// SPDX-License-Identifier: GPL-2.0
/*
 * Network devices: the TX watchdog found a queue stopped past its
 * timeout (net:net_dev_xmit_timeout). Reported with the device name and
 * the queue; the task running the watchdog timer is not the culprit, so
 * no pid.
 */
#include "kheal_probe.bpf.h"

SEC("tp_btf/net_dev_xmit_timeout")
int BPF_PROG(net_tx_timeout, struct net_device *dev, int queue_index)
{
	struct kheal_bpf_event *e;

	e = kheal_event_reserve(KHEAL_BPF_PROBE_NETDEV_TX_TIMEOUT,
				KHEAL_EVENT_NETDEV_TX_TIMEOUT, KHEAL_SEV_ERROR);
	if (!e)
		return 0;
	e->present |= KHEAL_BPF_F_DEV | KHEAL_BPF_F_QUEUE;
	BPF_CORE_READ_STR_INTO(&e->dev, dev, name);
	e->queue = queue_index;
	kheal_event_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
