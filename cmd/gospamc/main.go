// Command gospamc is a spamc-compatible client for the spamd protocol.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "gospamc: not built yet")
	os.Exit(69) // EX_UNAVAILABLE
}
