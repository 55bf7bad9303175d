# The agent's brain: runbooks, the health registry and autonomy, with
# their tests. agent/Makefile includes it after its own variables (it
# needs O, S, SAN, SAN_ENV and LDLIBS set), e.g. as its last line:
#
#   include brain.mk
#
# The brain's objects go into libkheal.a, so kheald and khealctl link
# them; its tests are among tests/test_*.c, so `make check` runs them.
# `make check-brain` builds and runs those tests alone.

BRAIN		:= runbook health autonomy
BRAIN_OBJS	:= $(patsubst %,$(O)/%.o,$(BRAIN))
BRAIN_SAN_OBJS	:= $(patsubst %,$(S)/%.o,$(BRAIN))
BRAIN_TESTS	:= $(addprefix $(S)/,test_runbook test_health test_autonomy)
# What the brain uses of the rest of the agent.
BRAIN_USES	:= $(patsubst %,$(S)/%.o,err json event actions actions_netdev \
		   rtnl service kheal.pb-c actions_memory memtrack psi \
		   actions_host path actions_block)
RUNBOOKS_DIR	:= $(abspath ../runbooks)

LDLIBS		+= $(shell pkg-config --libs yaml-0.1)

$(O)/libkheal.a: $(BRAIN_OBJS)
$(S)/libkheal.a: $(BRAIN_SAN_OBJS)

# test_runbook checks that every shipped runbook parses.
$(S)/test_runbook.o $(S)/test_kheald.o: CPPFLAGS += -DKHEAL_RUNBOOKS_DIR=\"$(RUNBOOKS_DIR)\"

# The brain's tests link only what they use, so they do not wait on the
# rest of the agent.
$(BRAIN_TESTS): $(S)/%: $(S)/%.o $(BRAIN_SAN_OBJS) $(BRAIN_USES)
	$(CC) $(LDFLAGS) $(SAN) -o $@ $^ $(LDLIBS) -lcmocka

.PHONY: check-brain
check-brain: $(BRAIN_TESTS)
	@failed=0; for t in $^; do \
		echo "== $$t"; \
		$(SAN_ENV) $$t || failed=1; \
	done; \
	if [ $$failed = 0 ]; then echo "check-brain: all tests passed"; \
	else echo "check-brain: FAILED" >&2; exit 1; fi

# The executors of runbook actions and checks (runbook.c's tables point at
# them; the network ones use rtnl.c) and the incident context. Their tests
# link only what they use.
EXEC		:= actions actions_netdev rtnl service context actions_memory \
		   memtrack psi actions_host actions_block
EXEC_USES	:= $(patsubst %,$(S)/%.o,actions actions_netdev rtnl service runbook \
		   err json event kheal.pb-c actions_memory memtrack psi \
		   actions_host path actions_block)

$(O)/libkheal.a: $(patsubst %,$(O)/%.o,$(EXEC))
$(S)/libkheal.a: $(patsubst %,$(S)/%.o,$(EXEC))

$(S)/test_actions: $(S)/test_actions.o $(EXEC_USES) $(S)/cgroup.o
	$(CC) $(LDFLAGS) $(SAN) -o $@ $^ $(LDLIBS) -lcmocka

$(S)/test_context: $(S)/test_context.o $(S)/context.o $(EXEC_USES)
	$(CC) $(LDFLAGS) $(SAN) -o $@ $^ $(LDLIBS) -lcmocka

# What decides: incidents, diagnosis, the brain that runs runbooks, its
# control-socket ops and the replay. They use the journal and the control
# socket, so their tests link the whole library.
CORE		:= incident diagnose brain brain_ctl replay

$(O)/libkheal.a: $(patsubst %,$(O)/%.o,$(CORE))
$(S)/libkheal.a: $(patsubst %,$(S)/%.o,$(CORE))
