package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// saReferenceScript asks SpamAssassin (used as a reference peer) for what
// Parse reproduces: the visible and invisible rendered text arrays, the
// URI list, the relay metadata strings and the decoded headers. Every
// string is printed as octets (one JSON character per byte).
const saReferenceScript = `
use strict; use warnings;
use Mail::SpamAssassin; use Mail::SpamAssassin::PerMsgStatus; use JSON::PP;
my $state = shift @ARGV;
my $sa = Mail::SpamAssassin->new({userprefs_filename => '/dev/null', dont_copy_prefs => 1,
  local_tests_only => 1, userstate_dir => $state});
$sa->init(1);
binmode STDOUT, ':utf8';
my $js = JSON::PP->new->canonical(1)->utf8(0);
sub oct_list { return [ map { my $x = $_; utf8::encode($x) if utf8::is_utf8($x); $x } @_ ] }
for my $f (@ARGV) {
  open(my $fh, '<', $f) or die "$f: $!"; binmode $fh;
  my $raw = do { local $/; <$fh> }; close $fh;
  my $msg = $sa->parse($raw, 1);
  my $pms = Mail::SpamAssassin::PerMsgStatus->new($sa, $msg);
  $msg->extract_message_metadata($pms);
  my %o = (file => $f);
  $o{text} = oct_list(@{$msg->get_visible_rendered_body_text_array()});
  $o{invisible} = oct_list(@{$msg->get_invisible_rendered_body_text_array()});
  $o{uris} = oct_list($pms->get_uri_list());
  $o{headers} = oct_list($msg->get_all_headers(0));
  for my $k (qw(trusted untrusted internal external)) {
    $o{"relays_$k"} = $msg->{metadata}->{"relays_${k}_str"};
  }
  print $js->encode(\%o), "\n";
  $pms->finish; $msg->finish;
}
`

type saParse struct {
	File      string   `json:"file"`
	Text      []string `json:"text"`
	Invisible []string `json:"invisible"`
	URIs      []string `json:"uris"`
	Headers   []string `json:"headers"`
	Trusted   string   `json:"relays_trusted"`
	Untrusted string   `json:"relays_untrusted"`
	Internal  string   `json:"relays_internal"`
	External  string   `json:"relays_external"`
}

// requireParsePeer skips the test when a reference peer is missing, or fails
// it when GOSPAMD_REQUIRE_PEERS=1.
func requireParsePeer(t *testing.T, format string, args ...any) {
	t.Helper()
	testpeer.Missing(t, format, args...)
}

func runSAReference(t *testing.T, files []string) map[string]saParse {
	t.Helper()
	if _, err := exec.LookPath("perl"); err != nil {
		requireParsePeer(t, "perl not installed: cannot compare with SpamAssassin")
	}
	if err := exec.Command("perl", "-MMail::SpamAssassin", "-MJSON::PP", "-e", "1").Run(); err != nil {
		requireParsePeer(t, "perl module Mail::SpamAssassin not installed (Debian package spamassassin): %v", err)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "saref.pl")
	if err := os.WriteFile(script, []byte(saReferenceScript), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{script, filepath.Join(dir, "state")}, files...)
	cmd := exec.Command("perl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run SpamAssassin reference script: %v\n%s", err, stderr.String())
	}
	res := map[string]saParse{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		var r saParse
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("decode SpamAssassin output: %v", err)
		}
		for _, l := range []*[]string{&r.Text, &r.Invisible, &r.URIs, &r.Headers} {
			for i := range *l {
				(*l)[i] = latin1Octets((*l)[i])
			}
		}
		slices.Sort(r.URIs)
		res[r.File] = r
	}
	return res
}

// saMismatches lists the fields in which Parse differs from SpamAssassin.
func saMismatches(m *Message, r saParse) []string {
	var bad []string
	if !slices.Equal(m.Text, r.Text) {
		bad = append(bad, fmt.Sprintf("text: got %q, SpamAssassin %q", m.Text, r.Text))
	}
	if !slices.Equal(m.Invisible, r.Invisible) {
		bad = append(bad, fmt.Sprintf("invisible: got %q, SpamAssassin %q", m.Invisible, r.Invisible))
	}
	uris := slices.Clone(m.URIs)
	slices.Sort(uris)
	if !slices.Equal(uris, r.URIs) {
		bad = append(bad, fmt.Sprintf("uris: got %q, SpamAssassin %q", uris, r.URIs))
	}
	rh := m.RelayHeaders()
	if rh.Trusted != r.Trusted || rh.Untrusted != r.Untrusted || rh.Internal != r.Internal || rh.External != r.External {
		bad = append(bad, fmt.Sprintf("relays: got %+v, SpamAssassin trusted=%q untrusted=%q internal=%q external=%q",
			rh, r.Trusted, r.Untrusted, r.Internal, r.External))
	}
	var hs []string
	for _, f := range m.Header {
		hs = append(hs, f.Name+": "+f.Value+"\n")
	}
	if !slices.Equal(hs, r.Headers) {
		bad = append(bad, fmt.Sprintf("headers: got %q, SpamAssassin %q", hs, r.Headers))
	}
	return bad
}

func sampleCorpus(n int) []string {
	root := testpeer.CorpusDir()
	var all []string
	for _, d := range []string{"easy_ham", "hard_ham", "spam"} {
		entries, _ := os.ReadDir(filepath.Join(root, d))
		for _, e := range entries {
			all = append(all, filepath.Join(root, d, e.Name()))
		}
	}
	if len(all) <= n {
		return all
	}
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, all[i*len(all)/n])
	}
	return out
}

// TestParseMatchesSpamAssassin runs SpamAssassin 4 on the fixtures and
// on a spread sample of the corpus (200 messages, or GOSPAMD_SA_SAMPLE)
// and compares what it renders with
// Parse. Fixtures must match exactly; on the corpus sample at least 99%
// of the messages must match in every field.
func TestParseMatchesSpamAssassin(t *testing.T) {
	fixtures := parseFixtures(t)
	n := 200
	if v, err := strconv.Atoi(os.Getenv("GOSPAMD_SA_SAMPLE")); err == nil && v > 0 {
		n = v
	}
	corpus := sampleCorpus(n)
	ref := runSAReference(t, append(slices.Clone(fixtures), corpus...))
	check := func(f string) []string {
		r, ok := ref[f]
		if !ok {
			return []string{"SpamAssassin gave no result"}
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return saMismatches(Parse(raw), r)
	}
	for _, f := range fixtures {
		for _, d := range check(f) {
			t.Errorf("%s: %s", f, d)
		}
	}
	if len(corpus) == 0 {
		t.Log("corpus not found (set GOSPAMD_CORPUS); compared fixtures only")
		return
	}
	bad := 0
	for _, f := range corpus {
		if d := check(f); len(d) > 0 {
			bad++
			t.Logf("%s: %s", f, strings.Join(d, "; "))
		}
	}
	t.Logf("corpus sample: %d of %d messages differ from SpamAssassin", bad, len(corpus))
	if bad*100 > len(corpus) {
		t.Errorf("%d of %d corpus messages differ from SpamAssassin, want at most 1%%", bad, len(corpus))
	}
}
