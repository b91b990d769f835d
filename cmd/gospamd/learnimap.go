package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/learn/imaptrain"
)

// imapLearnJob opens the folder of gospamd learn --imap (the cold-start
// import of an existing spam or ham folder) read-only, as the one job of
// the run. The code is -1 to go on; otherwise the command exits with it.
func imapLearnJob(ctx context.Context, env *cliEnv, f *learnFlags, targets []string) (learnJob, func(), int) {
	usage := func(format string, a ...any) (learnJob, func(), int) {
		fmt.Fprintf(env.stderr, "gospamd learn: --imap: "+format+"\n", a...)
		return learnJob{}, nil, exitUsage
	}
	if len(targets) > 0 || f.folders != "" {
		return usage("give the folder in the URL, not also files or --folders")
	}
	if f.spam == f.ham && !f.forget {
		return usage("say --spam or --ham")
	}
	u, err := imaptrain.ParseFolderURL(f.imapURL)
	if err != nil {
		return usage("%v", err)
	}
	if f.passwordFile == "" {
		return usage("--password-file FILE is required")
	}
	pw, err := os.ReadFile(f.passwordFile)
	if err != nil {
		return usage("%v", err)
	}
	password, _, _ := strings.Cut(string(pw), "\n")
	security := u.Security
	if security == "" {
		security = imaptrain.SecurityStartTLS
		if host, _, _ := net.SplitHostPort(u.Server); host == "localhost" || net.ParseIP(host).IsLoopback() {
			security = imaptrain.SecurityNone
		}
	}
	host, _, _ := net.SplitHostPort(u.Server)
	folder, err := imaptrain.OpenFolder(ctx, imaptrain.DialOptions{Server: u.Server, Security: security, ServerName: host,
		Login: u.User, Password: strings.TrimSuffix(password, "\r")}, u.Folder)
	if err != nil {
		fmt.Fprintf(env.stderr, "ERROR: %v\n", err)
		return learnJob{}, nil, exitFatal
	}
	class := classifier.Ham
	if f.spam {
		class = classifier.Spam
	}
	closeFolder := func() {
		if err := folder.Close(); err != nil {
			env.log.Debug("imap logout", "err", err)
		}
	}
	return learnJob{class: class, path: f.imapURL, src: folder.Each, count: folder.Len()}, closeFolder, -1
}
