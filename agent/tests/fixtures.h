/* SPDX-License-Identifier: GPL-2.0 */
/* Events the tests build, set through the event field table. */
#ifndef KHEAL_TEST_FIXTURES_H
#define KHEAL_TEST_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "event.h"

static inline const struct kheal_event_field *field_of(int attr)
{
	const struct kheal_event_field *f;

	for (f = kheal_event_fields; f->attr != attr; f++)
		;
	return f;
}

static inline void ev_set(struct kheal_event *ev, int attr, uint64_t v)
{
	const struct kheal_event_field *f = field_of(attr);
	char *p = (char *)ev + f->offset;

	if (f->type == KHEAL_FIELD_U32)
		*(uint32_t *)p = v;
	else
		*(uint64_t *)p = v;
	ev->present |= 1ULL << attr;
}

static inline void ev_set_str(struct kheal_event *ev, int attr, const char *s)
{
	const struct kheal_event_field *f = field_of(attr);

	snprintf((char *)ev + f->offset, f->size, "%s", s);
	ev->present |= 1ULL << attr;
}

/* A synthetic event with just the attributes every event carries. */
static inline void ev_basic(struct kheal_event *ev, uint64_t instance,
			    uint64_t seq)
{
	memset(ev, 0, sizeof(*ev));
	ev->source = KHEAL_SOURCE_KMOD;
	ev_set(ev, KHEAL_A_SEQ, seq);
	ev_set(ev, KHEAL_A_TIME_NS, 1000 * seq);
	ev_set(ev, KHEAL_A_KIND, KHEAL_EVENT_SYNTHETIC);
	ev_set(ev, KHEAL_A_SEVERITY, KHEAL_SEV_INFO);
	ev_set_str(ev, KHEAL_A_SUBSYS, "test");
	ev_set(ev, KHEAL_A_INSTANCE, instance);
}

/* The hung-task event ARCHITECTURE.md and the brief show as JSON. */
static inline void ev_example(struct kheal_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->source = KHEAL_SOURCE_KMOD;
	ev_set(ev, KHEAL_A_SEQ, 7);
	ev_set(ev, KHEAL_A_TIME_NS, 123);
	ev_set(ev, KHEAL_A_KIND, KHEAL_EVENT_HUNG_TASK);
	ev_set(ev, KHEAL_A_SEVERITY, KHEAL_SEV_WARNING);
	ev_set_str(ev, KHEAL_A_SUBSYS, "task");
	ev_set(ev, KHEAL_A_INSTANCE, 99);
	ev_set(ev, KHEAL_A_PID, 55);
	ev_set_str(ev, KHEAL_A_COMM, "kheal-hung");
	ev_set_str(ev, KHEAL_A_CGROUP_PATH, "/");
	ev_set(ev, KHEAL_A_DURATION_MS, 512);
}

#define EXAMPLE_JSON "{\"seq\":7,\"time_ns\":123,\"kind\":\"hung_task\"," \
	"\"severity\":\"warning\",\"subsys\":\"task\",\"instance\":99," \
	"\"pid\":55,\"comm\":\"kheal-hung\",\"cgroup_path\":\"/\"," \
	"\"duration_ms\":512,\"source\":\"kmod\"}"

#endif
