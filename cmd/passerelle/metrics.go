package main

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
)

// metrics is the Prometheus side of the program. The core packages know
// nothing of Prometheus: they call small observer interfaces
// (bot.Observer, telegram.SendObserver, reminder.Observer) that metrics
// implements, and the gauges that need the store are read at scrape time.
//
// No label ever holds a user id, a chat id, a case id or a text: labels
// are update kinds, outcomes, lanes, results, store operations, partner
// ids (from the operator's partners file) and case statuses.
type metrics struct {
	reg     *prometheus.Registry
	started time.Time
	store   string // kind of store, for /status

	updatesReceived *prometheus.CounterVec
	updatesHandled  *prometheus.CounterVec
	updateDuration  *prometheus.HistogramVec
	sent            *prometheus.CounterVec
	retryAfter      prometheus.Histogram
	remClaimed      prometheus.Counter
	remRedelivered  prometheus.Counter
	remSent         *prometheus.CounterVec
	remAcked        *prometheus.CounterVec
	storeDuration   *prometheus.HistogramVec

	mu     sync.Mutex
	errors map[string]int // for /status: errors by kind since start

	queued func() (interactive, bulk int) // the sender's queues; nil before it exists
}

// newMetrics registers every metric on a fresh registry.
func newMetrics(storeURL string) *metrics {
	m := &metrics{
		reg:     prometheus.NewRegistry(),
		started: time.Now(),
		store:   storeKind(storeURL),
		errors:  map[string]int{},
		updatesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passerelle_updates_received_total", Help: "Updates received, by kind (text, command, callback, photo…).",
		}, []string{"kind"}),
		updatesHandled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passerelle_updates_handled_total", Help: "Updates handled, by kind and outcome (ok, duplicate, flooded, ignored, error, panic, retry).",
		}, []string{"kind", "outcome"}),
		updateDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "passerelle_update_duration_seconds", Help: "Time to handle one update, by kind.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passerelle_messages_sent_total", Help: "Send requests to Telegram, by lane (interactive, bulk) and result (ok, 429, 403, 4xx, 5xx, network).",
		}, []string{"lane", "result"}),
		retryAfter: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "passerelle_telegram_retry_after_seconds", Help: "Waits Telegram asked for with 429 (retry_after).",
			Buckets: []float64{1, 2, 5, 10, 30, 60, 300},
		}),
		remClaimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passerelle_reminders_claimed_total", Help: "Schedule entries claimed by the dispatcher (reminders and case timers).",
		}),
		remRedelivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passerelle_reminders_redelivered_total", Help: "Claims of entries claimed before and never acked (their lease expired).",
		}),
		remSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passerelle_reminders_sent_total", Help: "Claimed entries notified, by result (ok, failed: retried after the lease).",
		}, []string{"result"}),
		remAcked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passerelle_reminders_acked_total", Help: "Acks of sent reminders, by result (ok, failed).",
		}, []string{"result"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "passerelle_store_duration_seconds", Help: "Store round trips, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"op"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "passerelle_build_info", Help: "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": buildVersion(), "goversion": readBuildInfo().Go},
	})
	build.Set(1)
	m.reg.MustRegister(m.updatesReceived, m.updatesHandled, m.updateDuration, m.sent, m.retryAfter,
		m.remClaimed, m.remRedelivered, m.remSent, m.remAcked, m.storeDuration, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// storeKind names the kind of store without its address or password.
func storeKind(u string) string {
	kind, _, _ := strings.Cut(u, ":")
	return kind
}

func result(ok bool) string {
	if ok {
		return "ok"
	}
	return "failed"
}

func (m *metrics) countError(kind string) {
	m.mu.Lock()
	m.errors[kind]++
	m.mu.Unlock()
}

// UpdateReceived implements bot.Observer.
func (m *metrics) UpdateReceived(kind bot.Kind) {
	m.updatesReceived.WithLabelValues(kind.String()).Inc()
}

// UpdateHandled implements bot.Observer.
func (m *metrics) UpdateHandled(kind bot.Kind, outcome string, d time.Duration) {
	m.updatesHandled.WithLabelValues(kind.String(), outcome).Inc()
	m.updateDuration.WithLabelValues(kind.String()).Observe(d.Seconds())
	switch outcome {
	case bot.OutcomeError, bot.OutcomePanic, bot.OutcomeRetry:
		m.countError("update_" + outcome)
	}
}

// SendResult implements telegram.SendObserver.
func (m *metrics) SendResult(lane bot.Lane, res string) {
	name := "interactive"
	if lane == bot.LaneBulk {
		name = "bulk"
	}
	m.sent.WithLabelValues(name, res).Inc()
	switch res {
	case telegram.ResultOK, telegram.ResultBlocked:
	default:
		m.countError("send_" + res)
	}
}

// RetryAfter implements telegram.SendObserver.
func (m *metrics) RetryAfter(d time.Duration) { m.retryAfter.Observe(d.Seconds()) }

// Claimed implements reminder.Observer.
func (m *metrics) Claimed(n, redelivered int) {
	m.remClaimed.Add(float64(n))
	m.remRedelivered.Add(float64(redelivered))
}

// Notified implements reminder.Observer.
func (m *metrics) Notified(ok bool) {
	m.remSent.WithLabelValues(result(ok)).Inc()
	if !ok {
		m.countError("reminder_not_sent")
	}
}

// Acked implements reminder.Observer.
func (m *metrics) Acked(ok bool) {
	m.remAcked.WithLabelValues(result(ok)).Inc()
	if !ok {
		m.countError("reminder_ack_failed")
	}
}

// Status implements bot.StatusReporter for the operator's /status.
func (m *metrics) Status(ctx context.Context) bot.Status {
	st := bot.Status{Version: buildVersion(), Uptime: time.Since(m.started), Store: m.store, Errors: map[string]int{}}
	if m.queued != nil {
		st.Interactive, st.Bulk = m.queued()
	}
	m.mu.Lock()
	for k, v := range m.errors {
		st.Errors[k] = v
	}
	m.mu.Unlock()
	return st
}

// stateCollector reads at scrape time what only the store and the sender
// know: queue depths, the reminder backlog and open cases per partner.
type stateCollector struct {
	m        *metrics
	sched    reminder.Store
	cases    handoff.Store // nil without partners
	partners *handoff.Partners

	queueDepth, remDue, remOldest, casesDesc *prometheus.Desc
}

func (m *metrics) watch(sched reminder.Store, cases handoff.Store, partners *handoff.Partners) {
	m.reg.MustRegister(&stateCollector{
		m: m, sched: sched, cases: cases, partners: partners,
		queueDepth: prometheus.NewDesc("passerelle_send_queue_depth", "Sends waiting for the rate limits, by lane.", []string{"lane"}, nil),
		remDue:     prometheus.NewDesc("passerelle_reminders_due", "Schedule entries due now that no dispatcher holds.", nil, nil),
		remOldest:  prometheus.NewDesc("passerelle_reminders_oldest_due_age_seconds", "How long the oldest due entry has waited (0 when none).", nil, nil),
		casesDesc:  prometheus.NewDesc("passerelle_cases", "Hand-off cases by partner and status: open (waiting or taken), waiting, taken, escalated (waiting, passed on from another partner). Counts only.", []string{"partner", "status"}, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.queueDepth
	ch <- c.remDue
	ch <- c.remOldest
	ch <- c.casesDesc
}

// scrapeTimeout bounds the store reads of one scrape.
const scrapeTimeout = 5 * time.Second

// Collect implements prometheus.Collector. A store error leaves the
// metrics it would give out of this scrape.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	if c.m.queued != nil {
		i, b := c.m.queued()
		ch <- prometheus.MustNewConstMetric(c.queueDepth, prometheus.GaugeValue, float64(i), "interactive")
		ch <- prometheus.MustNewConstMetric(c.queueDepth, prometheus.GaugeValue, float64(b), "bulk")
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if l, ok := c.sched.(reminder.Lister); ok {
		now := time.Now()
		if n, oldest, err := l.Backlog(ctx, now); err == nil {
			age := 0.0
			if n > 0 {
				age = now.Sub(oldest).Seconds()
			}
			ch <- prometheus.MustNewConstMetric(c.remDue, prometheus.GaugeValue, float64(n))
			ch <- prometheus.MustNewConstMetric(c.remOldest, prometheus.GaugeValue, age)
		}
	}
	if c.cases == nil || c.partners == nil {
		return
	}
	for _, p := range c.partners.All() {
		open, err := c.cases.OpenCases(ctx, p.ID)
		if err != nil {
			continue
		}
		var waiting, taken, escalated int
		for _, cs := range open {
			switch cs.Status {
			case handoff.StatusWaiting:
				waiting++
				if len(cs.Tried) > 0 {
					escalated++
				}
			case handoff.StatusTaken:
				taken++
			}
		}
		for status, n := range map[string]int{"open": waiting + taken, "waiting": waiting, "taken": taken, "escalated": escalated} {
			ch <- prometheus.MustNewConstMetric(c.casesDesc, prometheus.GaugeValue, float64(n), p.ID, status)
		}
	}
}

// timedStore times the store calls of the update and reminder paths;
// everything else goes straight to the store it embeds.
type timedStore struct {
	migratable
	h *prometheus.HistogramVec
}

// timeStore wraps st when it is one of ours (both stores are), keeping
// the one-round-trip StateLoader when st has it.
func (m *metrics) timeStore(st bot.Store) bot.Store {
	full, ok := st.(migratable)
	if !ok {
		return st
	}
	ts := &timedStore{migratable: full, h: m.storeDuration}
	if l, ok := st.(bot.StateLoader); ok {
		return &timedLoader{timedStore: ts, l: l}
	}
	return ts
}

func (s *timedStore) observe(op string, start time.Time) {
	s.h.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// timedLoader is a timedStore whose store reads the update's state in one
// round trip (Redis).
type timedLoader struct {
	*timedStore
	l bot.StateLoader
}

// LoadState implements bot.StateLoader.
func (s *timedLoader) LoadState(ctx context.Context, updateID int64, lease time.Duration, userID int64, k bot.SessionKey) (bot.LoadedState, error) {
	defer s.observe("load_state", time.Now())
	return s.l.LoadState(ctx, updateID, lease, userID, k)
}

func (s *timedStore) Profile(ctx context.Context, userID int64) (bot.Profile, error) {
	defer s.observe("profile_get", time.Now())
	return s.migratable.Profile(ctx, userID)
}

func (s *timedStore) PutProfile(ctx context.Context, p bot.Profile) error {
	defer s.observe("profile_put", time.Now())
	return s.migratable.PutProfile(ctx, p)
}

func (s *timedStore) SaveSession(ctx context.Context, sess bot.Session) (int64, error) {
	defer s.observe("session_save", time.Now())
	return s.migratable.SaveSession(ctx, sess)
}

func (s *timedStore) SeenUpdate(ctx context.Context, id int64) (bool, error) {
	defer s.observe("update_seen", time.Now())
	return s.migratable.SeenUpdate(ctx, id)
}

func (s *timedStore) MarkUpdate(ctx context.Context, id int64, until time.Time) error {
	defer s.observe("update_mark", time.Now())
	return s.migratable.MarkUpdate(ctx, id, until)
}

func (s *timedStore) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]reminder.Claim, error) {
	defer s.observe("reminder_claim", time.Now())
	return s.migratable.Claim(ctx, now, limit, lease)
}

func (s *timedStore) Ack(ctx context.Context, id, token string, next time.Time) error {
	defer s.observe("reminder_ack", time.Now())
	return s.migratable.Ack(ctx, id, token, next)
}

func (s *timedStore) Renew(ctx context.Context, held []reminder.Claim, lease time.Duration) ([]string, error) {
	defer s.observe("reminder_renew", time.Now())
	return s.migratable.Renew(ctx, held, lease)
}

func (s *timedStore) UpdateCase(ctx context.Context, c handoff.Case) (int64, error) {
	defer s.observe("case_update", time.Now())
	return s.migratable.UpdateCase(ctx, c)
}
