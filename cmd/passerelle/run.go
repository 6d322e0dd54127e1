package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: passerelle [command] [flags]

commands:
  run     run the Telegram bot (default); needs TELEGRAM_BOT_TOKEN
  chat    talk to the bot in this terminal; no token, no Redis needed
            --lang CODE   your language code as Telegram would send it (e.g. fr, ar)
            --store URL   store to use (default: a temporary embedded store)
  web     serve the same conversation as a web page, alone (no Telegram token)
            --listen ADDR  address to serve on, under /chat/ (default PASSERELLE_LISTEN or :8080)
            --store URL    store to use (default PASSERELLE_STORE)
            --partners FILE partners file; needs TELEGRAM_BOT_TOKEN (the volunteers are in Telegram)
  check   check the configuration and the catalogs
            --locales DIR check the catalogs in DIR instead of the built-in ones
  seed    fill a store with synthetic residents for load tests and benchmarks
            -n N          number of residents, each with one tracked card (default 1000)
            --store URL   store to fill (required); on Redis, prints used_memory per resident
  health  ask the running bot (PASSERELLE_LISTEN) whether it is alive; for container health checks
  keygen  print a new master key for PASSERELLE_DATA_KEY
  rotate-key
          re-wrap every resident's data key with a new master key (PASSERELLE_NEW_DATA_KEY
          or PASSERELLE_NEW_DATA_KEY_FILE); the current one is PASSERELLE_DATA_KEY. Stop the bot first.
            --store URL   store to rotate (default: PASSERELLE_STORE)

Configuration is read from the environment; see README.md.
`

// errUsage is returned for a bad command line; usage was printed.
var errUsage = errors.New("bad usage")

// run is the whole program; main only calls it. It owns the signals.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd := "run"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return runBot(ctx, args, getenv, stderr)
	case "chat":
		return runChat(ctx, args, getenv, stdin, stdout, stderr)
	case "web":
		return runWeb(ctx, args, getenv, stderr)
	case "check":
		return runCheck(ctx, args, getenv, stdout, stderr)
	case "health":
		return runHealth(ctx, getenv, stdout)
	case "seed":
		return runSeed(ctx, args, getenv, stdout, stderr)
	case "keygen":
		return runKeygen(stdout)
	case "rotate-key":
		return runRotateKey(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("passerelle "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
