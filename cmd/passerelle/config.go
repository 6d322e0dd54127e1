package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
	"github.com/passerelle-bot/passerelle/internal/translate"
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
	// Translator is the operator's self-hosted LibreTranslate server
	// (PASSERELLE_TRANSLATE_URL, with PASSERELLE_TRANSLATE_KEY if it needs
	// one); nil: no machine translation in case topics.
	Translator *translate.LibreTranslate
	// DataKey is the master key (datakey.go); nil when not set, which
	// only run refuses.
	DataKey *seal.Keyring
	// InactiveMonths: a resident with nothing followed, no open case and
	// no message for that long is told, then forgotten.
	InactiveMonths int
	// The operator (the controller of the residents' data), named in
	// /privacy and /start; run refuses to start without name and contact.
	Operator operatorIdentity
}

// operatorIdentity is who runs this deployment.
type operatorIdentity struct {
	Name    string // PASSERELLE_OPERATOR_NAME
	Contact string // PASSERELLE_OPERATOR_CONTACT: an e-mail address, a URL or a Telegram @username
	DPO     string // PASSERELLE_OPERATOR_DPO: the data protection officer's contact, optional
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
		Operator: operatorIdentity{
			Name:    strings.TrimSpace(getenv("PASSERELLE_OPERATOR_NAME")),
			Contact: strings.TrimSpace(getenv("PASSERELLE_OPERATOR_CONTACT")),
			DPO:     strings.TrimSpace(getenv("PASSERELLE_OPERATOR_DPO")),
		},
	}
	var errs []error
	if c.Token != "" && !tokenRE.MatchString(c.Token) {
		// Never print the token itself.
		errs = append(errs, errors.New("TELEGRAM_BOT_TOKEN: not shaped like a bot token (digits, a colon, then at least 20 of A-Z a-z 0-9 _ -, as @BotFather gives it)"))
	}
	if err := checkStoreURL(c.Store); err != nil {
		errs = append(errs, fmt.Errorf("PASSERELLE_STORE: %w", err))
	}
	if err := checkListen(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("PASSERELLE_LISTEN: %w", err))
	}
	for _, f := range []struct{ name, v string }{
		{"PASSERELLE_OPERATOR_NAME", c.Operator.Name},
		{"PASSERELLE_OPERATOR_CONTACT", c.Operator.Contact},
		{"PASSERELLE_OPERATOR_DPO", c.Operator.DPO},
	} {
		if len([]rune(f.v)) > maxOperatorField || strings.ContainsAny(f.v, "\r\n") {
			errs = append(errs, fmt.Errorf("%s: at most %d characters, on one line", f.name, maxOperatorField))
		}
	}
	if err := checkAPIURL(c.APIURL); err != nil {
		errs = append(errs, err)
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
	if u := strings.TrimSpace(getenv("PASSERELLE_TRANSLATE_URL")); u != "" {
		if c.Translator, err = translate.New(u, strings.TrimSpace(getenv("PASSERELLE_TRANSLATE_KEY")), nil); err != nil {
			errs = append(errs, fmt.Errorf("PASSERELLE_TRANSLATE_URL: %w", err))
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

// maxOperatorField bounds each operator identity variable: they are shown
// in every resident's privacy notice.
const maxOperatorField = 120

// tokenRE is the shape of a bot token from @BotFather: the bot's id, a
// colon and a secret.
var tokenRE = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,}$`)

// requireForRun returns what run needs beyond a valid configuration: the
// token and the operator's identity. check reports them too.
func (c config) requireForRun() error {
	var errs []error
	if c.Token == "" {
		errs = append(errs, errors.New("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather (see README.md), or try `passerelle chat`, which needs no token"))
	}
	if c.Operator.Name == "" {
		errs = append(errs, errors.New("PASSERELLE_OPERATOR_NAME is not set: the privacy notice must name who runs this service (e.g. the association's name)"))
	}
	if c.Operator.Contact == "" {
		errs = append(errs, errors.New("PASSERELLE_OPERATOR_CONTACT is not set: residents must be able to reach whoever runs this service (an e-mail address, a web page or a Telegram @username)"))
	}
	return errors.Join(errs...)
}

// checkStoreURL checks the form of a PASSERELLE_STORE URL without
// connecting.
func checkStoreURL(u string) error {
	switch {
	case strings.HasPrefix(u, "bolt:"):
		path := strings.TrimPrefix(u, "bolt:")
		if path == "" {
			return errors.New("bolt needs a file path, e.g. bolt:passerelle.db")
		}
		if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
			return fmt.Errorf("bolt: directory %s does not exist", filepath.Dir(path))
		}
		return nil
	case strings.HasPrefix(u, "redis://"), strings.HasPrefix(u, "rediss://"), strings.HasPrefix(u, "redis-cluster://"):
		parsed, err := url.Parse(u)
		if err != nil {
			return errors.New("malformed Redis URL (check its syntax; the password is not shown)")
		}
		q := parsed.Query()
		q.Del("prefix")
		parsed.RawQuery = q.Encode()
		if _, err := redis.ParseURL(parsed.String()); err != nil {
			return errors.New("malformed Redis URL (check host, port, database number and options; the password is not shown)")
		}
		return nil
	}
	return errors.New("unknown kind: want bolt:PATH, redis://, rediss:// or redis-cluster://")
}

// checkListen checks a host:port listen address without binding it.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want [host]:port such as :8080 or 127.0.0.1:8080, got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /:") {
		return fmt.Errorf("host %q is neither an IP address nor a name", host)
	}
	return nil
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

// checkAPIURL validates TELEGRAM_API_URL. Every request carries the bot
// token, so plain http is accepted only to this machine (a local Bot API
// server, a test fake). The URL may hold credentials (user:pass@, a key in
// the query): errors show it redacted.
func checkAPIURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("TELEGRAM_API_URL: not a valid URL (not shown: it may hold credentials)")
	}
	switch {
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("TELEGRAM_API_URL: want an https URL such as https://api.telegram.org, got %s", redactAPIURL(u))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("TELEGRAM_API_URL: no query or fragment: the bot appends /bot{token}/{method} to it (got %s)", redactAPIURL(u))
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		return fmt.Errorf("TELEGRAM_API_URL: plain http sends the bot token in clear: use https (http only to this machine: 127.0.0.0/8, ::1, localhost), got %s", redactAPIURL(u))
	}
	return nil
}

// loopbackHost reports whether host names this machine: localhost, an
// address of 127.0.0.0/8 or ::1.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactAPIURL shows u without its credentials: the user and password become
// "redacted", the query and fragment "…".
func redactAPIURL(u *url.URL) string {
	r := *u
	if r.User != nil {
		r.User = url.User("redacted")
	}
	s := r.Scheme + "://"
	if r.User != nil {
		s += r.User.String() + "@"
	}
	s += r.Host + r.EscapedPath()
	if r.RawQuery != "" || r.ForceQuery {
		s += "?…"
	}
	if r.Fragment != "" {
		s += "#…"
	}
	return s
}
