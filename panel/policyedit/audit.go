package policyedit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"time"
)

// AuditName is the audit log beside the overlay.
const AuditName = "panel-audit.log"

// An AuditEntry is one changed setting: a line of the audit log (JSON).
type AuditEntry struct {
	Time    time.Time `json:"time"`
	User    string    `json:"user"`
	Role    string    `json:"role"`
	Setting string    `json:"setting"`
	Old     string    `json:"old"`
	New     string    `json:"new"`
}

// appendAudit appends entries to the log at path (created 0600), synced.
// The log is only ever appended to.
func appendAudit(path string, entries []AuditEntry) (err error) {
	if len(entries) == 0 {
		return nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("audit: %w", cerr)
		}
	}()
	if _, err := f.Write(b.Bytes()); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// ReadAudit returns the last n entries of the audit log at path, newest
// first (all with n <= 0). A missing log has none; a line that does not
// parse is skipped.
func ReadAudit(path string, n int) ([]AuditEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer f.Close()
	var all []AuditEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e AuditEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			all = append(all, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	slices.Reverse(all)
	if n > 0 && len(all) > n {
		all = all[:n]
	}
	return all, nil
}

// flatten names every setting of s by its key with its value as text,
// for the audit log's old → new.
func flatten(s Settings) map[string]string {
	m := map[string]string{
		KeySensitivity:            s.Sensitivity,
		KeyTagScore:               formatNum(s.TagScore),
		KeyRejectScore:            formatNum(s.RejectScore),
		KeyRewriteSubject:         s.SubjectText,
		ScoreKey(RuleSPFFail):     s.SPFFail,
		ScoreKey(RuleSPFSoftFail): s.SPFSoftFail,
		KeyJunkSort:               onOff(s.Daemon.JunkSort),
		KeyJunkRetention:          strconv.Itoa(s.Daemon.JunkRetentionDays),
	}
	for n, v := range s.RuleScores {
		m[ScoreKey(n)] = v
	}
	for _, l := range s.Lists {
		m[l.Key()] = onOff(l.On)
	}
	for _, a := range s.Welcome {
		m[ListKey("welcomelist_from", a)] = "listed"
	}
	for _, a := range s.Block {
		m[ListKey("blocklist_from", a)] = "listed"
	}
	return m
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// diffSettings returns one entry (without time and who) per setting whose
// value differs, sorted by setting.
func diffSettings(old, cur Settings) []AuditEntry {
	a, b := flatten(old), flatten(cur)
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []AuditEntry
	for _, k := range keys {
		if a[k] != b[k] {
			out = append(out, AuditEntry{Setting: k, Old: a[k], New: b[k]})
		}
	}
	return out
}
