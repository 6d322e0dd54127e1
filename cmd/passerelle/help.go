package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// commandHelp documents each subcommand: a one-line summary for the
// command list, and the text `passerelle help COMMAND` shows above its
// flags. Keep it true: TestHelpEveryCommand runs every entry.
var commandHelp = []struct {
	name, summary, text string
}{
	{"run", "run the Telegram bot (the default command)", `Runs the bot on Telegram, by long polling or, with PASSERELLE_WEBHOOK_URL,
by webhook; serves /healthz, /readyz and /metrics on PASSERELLE_LISTEN and
sends the reminders. Needs TELEGRAM_BOT_TOKEN and the operator's identity
(PASSERELLE_OPERATOR_NAME, PASSERELLE_OPERATOR_CONTACT). Configuration is
read from the environment: see README.md, or run 'passerelle check'.`},
	{"chat", "talk to the bot in this terminal; no token, no Redis", `Runs the same bot in this terminal: type a message, a /command, or the
number of a button; /quit leaves. With a partners file (--partners, else
PASSERELLE_PARTNERS) the terminal also plays the partner groups: a line
'@vol TEXT' is sent by a volunteer in the group the bot posted in last (in
its forum topic once there is one), '@vol N' presses that group's button N
(see README.md, "Try the hand-off in a terminal"). The store is
PASSERELLE_STORE or --store when given (a later run goes on where this one
stopped), else a temporary one removed at exit.

A second terminal can play one partner's volunteers while the first plays
the resident: run 'passerelle chat --partners FILE' in the first, then
'passerelle chat --as-volunteer PARTNER-ID' in the second, with the same
PASSERELLE_STORE or --store (or none in both). What the bot posts in that
partner's groups then shows in the second terminal only; each line typed
there is the volunteer's, in the group the bot posted in last (in its
topic once there is one), N presses its button N, /r TEXT previews an
answer to the resident (then N sends it). The first terminal runs the bot and holds the store (an
embedded store opens in one process only); the second joins it through a
socket only you can open, so it needs neither the store nor the key. A
chat with piped input serves the socket only when --socket is given.`},
	{"web", "serve the same conversation as a web page, alone (no Telegram token)", `Serves the conversation as a web page under /chat/ on --listen, without
Telegram. With --partners it needs TELEGRAM_BOT_TOKEN (the volunteers work
in Telegram) and runs as 'run' with PASSERELLE_WEB=on. See README.md, "The
web page".`},
	{"check", "check the configuration, the partners file, the catalogs and the guide", `Checks every variable 'run' reads, the partners file, the catalogs and
the guide tree; prints one line per problem and exits non-zero when there
is one. --connect also opens the store and the listen address.`},
	{"migrate", "copy a store into another (e.g. bolt to Redis)", `Copies residents, sessions, documents, the reminder schedule, hand-off
cases (with topics, relays, audit logs, the record of what each case left
in partner groups, counts and paused partners) and the relay copies not
yet sent from one store into another, then compares both and prints what differs. Stop
the bot first; the destination should be empty (--force to merge).`},
	{"seed", "fill a store with synthetic residents for load tests", `Fills a store with N synthetic residents, each with one tracked card and
its reminder entry. On Redis it prints used_memory per resident.
--due-now makes every reminder due at once (each is really sent when a
dispatcher claims it, outside quiet hours): a burst to rehearse.
--cases N gives the first N residents an open case, waiting at the
partners of PASSERELLE_PARTNERS in turn (records only: no card is posted
in the groups; not counted in the statistics).`},
	{"health", "ask the running bot whether it is alive (container health check)", `Asks the bot running on PASSERELLE_LISTEN for /healthz and prints its
answer (version and uptime); exits non-zero when it does not answer.`},
	{"keygen", "print a new master key for PASSERELLE_DATA_KEY", `Prints a new random master key (base64). Keep a copy apart from the data:
without it nothing stored can be read.`},
	{"rotate-key", "re-wrap every resident's data key with a new master key", `Re-wraps every resident's data key with the new master key
(PASSERELLE_NEW_DATA_KEY or PASSERELLE_NEW_DATA_KEY_FILE); the current one
is PASSERELLE_DATA_KEY. Stop the bot first.`},
	{"guide", "export the guide for legal review, or diff two versions of its tree", `export lists every outcome of the built-in guide with its paths, texts
(French unless --lang), sources (legal basis first) and review status, as
CSV or Markdown, for a lawyer or an association to annotate. diff shows
what changed between two versions of the tree (tree.yaml files, or
directories holding tree.yaml and sources.yaml), and which reviewed
outcomes go back to to_verify. See README.md, "Reviewing the legal
content".`},
	{"version", "print the version, the commit and the Go toolchain", `Prints the version stamped at build time (-ldflags "-X main.version=…"),
else the one the Go toolchain recorded, with the commit.`},
	{"help", "show this list, or a command's flags: passerelle help COMMAND", `Shows the list of commands, or the usage of one.`},
}

// synopses adds the arguments after "passerelle NAME" in usage lines.
var synopses = map[string]string{
	"chat":       "[--lang CODE] [--store URL | --temporary] [--partners FILE] [--volunteer-id ID] [--socket PATH] | --as-volunteer PARTNER-ID [--store URL | --socket PATH]",
	"web":        "--listen ADDR [--store URL] [--partners FILE]",
	"check":      "[--locales DIR] [--connect]",
	"migrate":    "--from URL --to URL [--force]",
	"seed":       "-n N --store URL [--due-now] [--cases N]",
	"help":       "[COMMAND]",
	"rotate-key": "[--store URL]",
	"guide":      "export [--format csv|md] [--lang fr] | diff OLD NEW",
}

// usage is the list of commands.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: passerelle [command] [flags]\n\ncommands:\n")
	for _, c := range commandHelp {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'passerelle help COMMAND' for a command's flags. Configuration is read\nfrom the environment; see README.md.\n")
	return b.String()
}

// printCommandHelp prints a command's usage line, text and flags.
func printCommandHelp(w io.Writer, name string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: passerelle %s", name)
	if s := synopses[name]; s != "" {
		fmt.Fprint(w, " "+s)
	}
	fmt.Fprintln(w)
	for _, c := range commandHelp {
		if c.name == name {
			fmt.Fprintf(w, "\n%s\n", c.text)
		}
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
	}
}

// runHelp prints the command list, or the usage of one command by asking
// the command itself (so its real flags are shown).
func runHelp(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stdout, usage())
		return nil
	}
	name := args[0]
	for _, c := range commandHelp {
		if c.name != name {
			continue
		}
		if name == "help" {
			fmt.Fprint(stdout, usage())
			return nil
		}
		return dispatch(ctx, name, []string{"-h"}, getenv, stdin, stdout, stdout)
	}
	fmt.Fprint(stdout, usage())
	return fmt.Errorf("%w: unknown command %q", errUsage, name)
}
