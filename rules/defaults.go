package rules

import (
	"embed"
	"io/fs"
)

//go:embed defaults/*.cf
var defaultsFS embed.FS

// Defaults is gospamd's built-in policy: the files of rules/defaults, read
// before everything else.
func Defaults() fs.FS {
	sub, err := fs.Sub(defaultsFS, "defaults")
	if err != nil {
		panic(err) // the embedded tree always has the directory
	}
	return sub
}
