package resolver_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gospamd/gospamd/internal/confval"
	"github.com/gospamd/gospamd/rules/resolver"
	"github.com/gospamd/gospamd/rules/resolver/dnstest"
)

func TestProbe(t *testing.T) {
	good := dnstest.Start(t, "a.test. 300 IN A 192.0.2.1", "b.test. 300 IN AAAA 2001:db8::1", "c.test. 300 IN TXT \"x\"")
	silent := dnstest.Start(t)
	silent.Silent("test.")
	tests := []struct {
		name    string
		servers []string
		domains []string
		want    []string
	}{
		{"answering server", []string{good.Addr}, []string{"a.test"}, []string{good.Addr}},
		{"AAAA only counts", []string{good.Addr}, []string{"b.test"}, []string{good.Addr}},
		{"silent then answering", []string{silent.Addr, good.Addr}, []string{"a.test", "b.test", "a.test", "b.test"}, []string{good.Addr}},
		{"silent only", []string{silent.Addr}, []string{"a.test", "b.test"}, nil},
		{"no address records", []string{good.Addr}, []string{"c.test", "nx.test"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := resolver.New(resolver.Config{Servers: tt.servers, Timeout: confval.Duration(200 * time.Millisecond)}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Probe(context.Background(), tt.domains); !slices.Equal(got, tt.want) {
				t.Errorf("Probe = %v, want %v", got, tt.want)
			}
		})
	}
}
