package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/transport/web"
)

// config is the environment contract of DESIGN.md, read in one place.
type config struct {
	Token         string
	APIURL        string
	Store         string
	WebhookURL    string
	WebhookSecret string
	Listen        string
	Partners      string
	Location      *time.Location
	ReminderHour  int
	QuietFrom     int
	QuietTo       int
	SendRate      float64
	Admins        []int64
	// Web serves the web page under /chat/ in run (PASSERELLE_WEB=on);
	// FrameAncestors are the origins allowed to embed it in an iframe
	// (PASSERELLE_WEB_FRAME_ANCESTORS, space-separated).
	Web            bool
	FrameAncestors []string
	// DataKey is the master key (datakey.go); nil when not set, which
	// only run refuses.
	DataKey *seal.Keyring
	// InactiveMonths: a resident with nothing followed, no open case and
	// no message for that long is told, then forgotten.
	InactiveMonths int
}

// loadConfig reads and validates every variable, reporting all problems at
// once. Messages never include the token.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Token:         strings.TrimSpace(getenv("TELEGRAM_BOT_TOKEN")),
		APIURL:        orDefault(getenv("TELEGRAM_API_URL"), "https://api.telegram.org"),
		Store:         orDefault(getenv("PASSERELLE_STORE"), "bolt:passerelle.db"),
		WebhookURL:    strings.TrimSpace(getenv("PASSERELLE_WEBHOOK_URL")),
		WebhookSecret: strings.TrimSpace(getenv("PASSERELLE_WEBHOOK_SECRET")),
		Listen:        orDefault(getenv("PASSERELLE_LISTEN"), ":8080"),
		Partners:      strings.TrimSpace(getenv("PASSERELLE_PARTNERS")),
	}
	var errs []error
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("TELEGRAM_API_URL: want an http(s) URL, got %q", c.APIURL))
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("PASSERELLE_WEBHOOK_URL: Telegram needs a public https URL (ports 443, 80, 88 or 8443), got %q", c.WebhookURL))
		}
	}
	if s := c.WebhookSecret; s != "" && !validSecret(s) {
		errs = append(errs, errors.New("PASSERELLE_WEBHOOK_SECRET: 1 to 256 characters among A-Z a-z 0-9 _ -"))
	}
	tz := orDefault(getenv("PASSERELLE_TIMEZONE"), "Europe/Paris")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		errs = append(errs, fmt.Errorf("PASSERELLE_TIMEZONE: unknown zone %q", tz))
		loc = time.UTC
	}
	c.Location = loc
	hour, err := strconv.Atoi(orDefault(getenv("PASSERELLE_REMINDER_HOUR"), "10"))
	if err != nil || hour < 1 || hour > 23 {
		errs = append(errs, errors.New("PASSERELLE_REMINDER_HOUR: an hour from 1 to 23"))
	}
	c.ReminderHour = hour
	quiet := orDefault(getenv("PASSERELLE_QUIET_HOURS"), "21-09")
	from, to, ok := parseHours(quiet)
	if !ok {
		errs = append(errs, fmt.Errorf("PASSERELLE_QUIET_HOURS: want HH-HH such as 21-09, got %q", quiet))
	} else if (reminder.Hours{From: from, To: to}).Quiet(time.Date(2000, 1, 1, hour, 0, 0, 0, time.UTC), time.UTC) {
		errs = append(errs, fmt.Errorf("PASSERELLE_REMINDER_HOUR: %d is inside PASSERELLE_QUIET_HOURS %s; reminders would wait for the end of the quiet hours", hour, quiet))
	}
	c.QuietFrom, c.QuietTo = from, to
	rate, err := strconv.ParseFloat(orDefault(getenv("PASSERELLE_SEND_RATE"), "30"), 64)
	if err != nil || rate <= 0 || rate > 1000 {
		errs = append(errs, errors.New("PASSERELLE_SEND_RATE: messages per second, above 0 and at most 1000"))
	}
	c.SendRate = rate
	switch w := strings.ToLower(strings.TrimSpace(getenv("PASSERELLE_WEB"))); w {
	case "on", "1", "true", "yes":
		c.Web = true
	case "", "off", "0", "false", "no":
	default:
		errs = append(errs, fmt.Errorf("PASSERELLE_WEB: on or off, got %q", w))
	}
	c.FrameAncestors = strings.Fields(getenv("PASSERELLE_WEB_FRAME_ANCESTORS"))
	for _, o := range c.FrameAncestors {
		if err := web.CheckFrameAncestor(o); err != nil {
			errs = append(errs, fmt.Errorf("PASSERELLE_WEB_FRAME_ANCESTORS: %w", err))
		}
	}
	if c.DataKey, err = loadKey(getenv, "PASSERELLE_DATA_KEY"); err != nil {
		errs = append(errs, err)
	}
	months, err := strconv.Atoi(orDefault(getenv("PASSERELLE_INACTIVE_MONTHS"), "24"))
	if err != nil || months < 2 || months > 120 {
		errs = append(errs, errors.New("PASSERELLE_INACTIVE_MONTHS: months from 2 to 120"))
	}
	c.InactiveMonths = months
	for _, f := range strings.FieldsFunc(getenv("PASSERELLE_ADMINS"), func(r rune) bool { return r == ',' || r == ' ' }) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, fmt.Errorf("PASSERELLE_ADMINS: %q is not a Telegram user id", f))
			continue
		}
		c.Admins = append(c.Admins, id)
	}
	return c, errors.Join(errs...)
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func parseHours(s string) (from, to int, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || from < 0 || from > 23 || to < 0 || to > 23 {
		return 0, 0, false
	}
	return from, to, true
}
