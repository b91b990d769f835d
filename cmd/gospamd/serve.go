package main

import (
	"context"
	"fmt"
)

func runServe(_ context.Context, env *cliEnv, _ []string) int {
	fmt.Fprintln(env.stderr, "gospamd serve: the spamd server is being built (issue 4)")
	return exitSoftware
}
