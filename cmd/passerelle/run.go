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

// errUsage is returned for a bad command line; usage was printed.
var errUsage = errors.New("bad usage")

// run is the whole program; main only calls it. It owns the signals.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd := "run"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		cmd, args = "help", nil
	}
	return dispatch(ctx, cmd, args, getenv, stdin, stdout, stderr)
}

// dispatch runs one subcommand. Flag usage goes to stderr, except for
// `passerelle help COMMAND`, which passes stdout there.
func dispatch(ctx context.Context, cmd string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
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
		return runHealth(ctx, args, getenv, stdout, stderr)
	case "seed":
		return runSeed(ctx, args, getenv, stdout, stderr)
	case "keygen":
		if help, err := parseFlags(newFlags("keygen", stderr), args); help || err != nil {
			return err
		}
		return runKeygen(stdout)
	case "rotate-key":
		return runRotateKey(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args, getenv, stdout, stderr)
	case "guide":
		return runGuide(ctx, args, stdout, stderr)
	case "version":
		return runVersion(args, stdout, stderr)
	case "help":
		return runHelp(ctx, args, getenv, stdin, stdout)
	}
	fmt.Fprint(stderr, usage())
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// newFlags returns the flag set of a subcommand, whose usage is the
// command's help (see help.go) and its flags.
func newFlags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("passerelle "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { printCommandHelp(fs.Output(), name, fs) }
	return fs
}

// parseFlags parses args; help is true (and err nil) when -h or --help
// asked for the usage, which was printed.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return false, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return false, nil
}
