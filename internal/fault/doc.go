// Package fault holds the fault tests of Passerelle's core against real
// stores: a reminder dispatcher killed mid-batch and replaced, a Redis
// server restarted during a conversation and during dispatch, and a
// process on a bbolt file killed with SIGKILL. The tests start and stop
// their own redis-server on a free loopback port (with append-only
// persistence), and skip with a message when it is not installed, unless
// PASSERELLE_TEST_REQUIRE_REDIS=1. The cluster variant runs on the
// cluster named by PASSERELLE_TEST_REDIS_CLUSTER. Outside its tests the
// package only has StartRedis, which the end-to-end tests of
// cmd/passerelle share; nothing in the program imports it.
package fault
