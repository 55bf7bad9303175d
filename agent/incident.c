// SPDX-License-Identifier: GPL-2.0
/* Incidents: grouping events per subsystem, flap folding, the table. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident.h"

const char *kheal_incident_state_name(Kheal__IncidentState state)
{
	switch (state) {
	case KHEAL__INCIDENT_STATE__INCIDENT_OPEN:
		return "open";
	case KHEAL__INCIDENT_STATE__INCIDENT_ACTING:
		return "acting";
	case KHEAL__INCIDENT_STATE__INCIDENT_AWAITING_APPROVAL:
		return "awaiting-approval";
	case KHEAL__INCIDENT_STATE__INCIDENT_RESOLVED:
		return "resolved";
	case KHEAL__INCIDENT_STATE__INCIDENT_ESCALATED:
		return "escalated";
	case KHEAL__INCIDENT_STATE__INCIDENT_NOVEL:
		return "novel";
	default:
		return "unknown";
	}
}

void kheal_incidents_init(struct kheal_incidents *t, uint64_t first_id,
			  uint64_t flap_window_ns)
{
	*t = (struct kheal_incidents){
		.next_id = first_id ? first_id : 1,
		.flap_window_ns = flap_window_ns,
	};
}

static void incident_free(struct kheal_incident *inc)
{
	if (inc->context)
		kheal__context__free_unpacked(inc->context, NULL);
	free(inc);
}

void kheal_incidents_free(struct kheal_incidents *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		incident_free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

struct kheal_incident *kheal_incident_find(const struct kheal_incidents *t,
					   uint64_t id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i]->id == id)
			return t->v[i];
	return NULL;
}

struct kheal_incident *kheal_incident_for(const struct kheal_incidents *t,
					  const char *subsystem,
					  uint64_t now_ns)
{
	struct kheal_incident *inc;
	size_t i;

	/* Newest first: a subsystem has at most one open incident. */
	for (i = t->n; i-- > 0;) {
		inc = t->v[i];
		if (strcmp(inc->subsystem, subsystem))
			continue;
		if (!kheal_incident_closed(inc))
			return inc;
		if (now_ns >= inc->closed_ns &&
		    now_ns - inc->closed_ns < t->flap_window_ns)
			return inc;
		return NULL;
	}
	return NULL;
}

/* Room for one more: drops the oldest closed incident when full. */
static int make_room(struct kheal_incidents *t, struct kheal_err *err)
{
	struct kheal_incident **v;
	size_t i;

	if (t->n < KHEAL_INCIDENTS_MAX) {
		v = realloc(t->v, (t->n + 1) * sizeof(*v));
		if (!v)
			return kheal_err_set(err, ENOMEM, "incident table");
		t->v = v;
		return 0;
	}
	for (i = 0; i < t->n; i++) {
		if (!kheal_incident_closed(t->v[i]))
			continue;
		incident_free(t->v[i]);
		memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
		t->n--;
		return 0;
	}
	return kheal_err_set(err, ENOSPC,
			     "%d incidents are open at once; none can be dropped",
			     KHEAL_INCIDENTS_MAX);
}

int kheal_incident_open(struct kheal_incidents *t, const char *subsystem,
			const struct kheal_event *trigger, uint64_t now_ns,
			struct kheal_incident **out, struct kheal_err *err)
{
	struct kheal_incident *inc;
	int ret;

	ret = make_room(t, err);
	if (ret)
		return ret;
	inc = calloc(1, sizeof(*inc));
	if (!inc)
		return kheal_err_set(err, ENOMEM, "incident");
	inc->id = t->next_id++;
	snprintf(inc->subsystem, sizeof(inc->subsystem), "%s", subsystem);
	inc->state = KHEAL__INCIDENT_STATE__INCIDENT_OPEN;
	inc->opened_ns = now_ns;
	inc->updated_ns = now_ns;
	inc->trigger = *trigger;
	inc->nevents = 1;
	t->v[t->n++] = inc;
	*out = inc;
	return 0;
}

void kheal_incident_log_action(struct kheal_incident *inc,
			       const struct kheal_action_log *log)
{
	if (inc->nactions == KHEAL_INCIDENT_MAX_ACTIONS) {
		memmove(&inc->actions[0], &inc->actions[1],
			(inc->nactions - 1) * sizeof(inc->actions[0]));
		inc->nactions--;
	}
	inc->actions[inc->nactions++] = *log;
	inc->actions_total++;
}
