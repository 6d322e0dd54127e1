// Command passerelle runs the Passerelle bot: on Telegram (run, the
// default), in a terminal (chat), or checks its configuration (check).
package main

import (
	"context"
	"fmt"
	"os"
	_ "time/tzdata" // reminder hours are in Europe/Paris even on a bare image
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "passerelle:", err)
		os.Exit(1)
	}
}
