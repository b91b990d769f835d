// Package dnstest runs a real DNS server (github.com/miekg/dns) on
// 127.0.0.1 for tests: records given in zone-file syntax, zones that
// never answer and zones that answer SERVFAIL. It serves UDP and TCP on
// the same port; answers larger than 512 bytes over UDP without EDNS come
// back truncated, as from a real server.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// A Server is an authoritative test server.
type Server struct {
	// Addr is "127.0.0.1:PORT", for dns_server and resolver.Config.
	Addr string

	mu       sync.Mutex
	records  map[string][]dns.RR // by canonical owner name
	silent   []string            // zone suffixes never answered
	servfail []string            // zone suffixes answered SERVFAIL
	queries  atomic.Int64
	byName   map[string]int
}

// Start runs a server until the test ends. records are zone-file lines
// ("1.0.0.127.bl.example. 300 IN A 127.0.0.2").
func Start(t testing.TB, records ...string) *Server {
	t.Helper()
	s := &Server{records: map[string][]dns.RR{}, byName: map[string]int{}}
	for _, r := range records {
		s.Add(t, r)
	}
	// UDP and TCP on one port: the kernel picks the UDP port, and the TCP
	// one may be taken by another process meanwhile, so try a few ports.
	var pc net.PacketConn
	var ln net.Listener
	for attempt := 0; ; attempt++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		_ = pc.Close()
		if attempt == 20 {
			t.Fatalf("no port free for both UDP and TCP: %v", err)
		}
	}
	s.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: ln, Handler: s}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	return s
}

// Add adds one record in zone-file syntax.
func (s *Server) Add(t testing.TB, record string) {
	t.Helper()
	rr, err := dns.NewRR(record)
	if err != nil {
		t.Fatalf("record %q: %v", record, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := dns.CanonicalName(rr.Header().Name)
	s.records[name] = append(s.records[name], rr)
}

// Silent makes every name under zone go unanswered.
func (s *Server) Silent(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = append(s.silent, dns.CanonicalName(zone))
}

// ServFail makes every name under zone answer SERVFAIL.
func (s *Server) ServFail(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servfail = append(s.servfail, dns.CanonicalName(zone))
}

// Queries is the number of queries received.
func (s *Server) Queries() int64 { return s.queries.Load() }

// QueriesFor is the number of queries received for name.
func (s *Server) QueriesFor(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byName[dns.CanonicalName(name)]
}

func under(name string, zones []string) bool {
	for _, z := range zones {
		if name == z || strings.HasSuffix(name, "."+z) {
			return true
		}
	}
	return false
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	s.queries.Add(1)
	if len(req.Question) != 1 {
		return
	}
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	s.mu.Lock()
	s.byName[name]++
	silent, servfail := under(name, s.silent), under(name, s.servfail)
	rrs, exists := s.records[name]
	if !exists {
		// A name with records below it exists (empty non-terminal).
		for n := range s.records {
			if strings.HasSuffix(n, "."+name) {
				exists = true
				break
			}
		}
	}
	s.mu.Unlock()
	switch {
	case silent:
		return
	case servfail:
		m.Rcode = dns.RcodeServerFailure
	case !exists:
		m.Rcode = dns.RcodeNameError
		m.Ns = append(m.Ns, soa(name))
	default:
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype || rr.Header().Rrtype == dns.TypeCNAME {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
		if len(m.Answer) == 0 {
			m.Ns = append(m.Ns, soa(name))
		}
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := 512
		if o := req.IsEdns0(); o != nil {
			size = int(o.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

func soa(name string) dns.RR {
	return &dns.SOA{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns: "ns.test.", Mbox: "hostmaster.test.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}
}
