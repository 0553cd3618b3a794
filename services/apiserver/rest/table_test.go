package rest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestTableCells(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	created := now.Add(-90 * time.Minute).Format(time.RFC3339)
	tests := []struct {
		name, kind, json string
		want             []any
	}{
		{"cluster IP", "services", `{"metadata":{"name":"web","creationTimestamp":"` + created + `"},"spec":{"type":"ClusterIP","clusterIP":"10.96.4.2","selector":{"b":"2","a":"1"},"ports":[{"port":80,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}}`,
			[]any{"web", "ClusterIP", "10.96.4.2", "<none>", "80/TCP,53/UDP", "90m", "a=1,b=2"}},
		{"node port", "services", `{"metadata":{"name":"np"},"spec":{"type":"NodePort","clusterIP":"10.96.4.3","ports":[{"port":80,"nodePort":30080,"protocol":"TCP"}]}}`,
			[]any{"np", "NodePort", "10.96.4.3", "<none>", "80:30080/TCP", "<unknown>", "<none>"}},
		{"load balancer", "services", `{"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","clusterIP":"10.96.4.4","ports":[{"port":443,"nodePort":31443,"protocol":"TCP"}]}}`,
			[]any{"lb", "LoadBalancer", "10.96.4.4", "<pending>", "443:31443/TCP", "<unknown>", "<none>"}},
		{"external name", "services", `{"metadata":{"name":"ext"},"spec":{"type":"ExternalName","externalName":"db.example.com"}}`,
			[]any{"ext", "ExternalName", "<none>", "db.example.com", "<none>", "<unknown>", "<none>"}},
		{"headless", "services", `{"metadata":{"name":"h"},"spec":{"type":"ClusterIP","clusterIP":"None","ports":[{"port":80,"protocol":"TCP"}]}}`,
			[]any{"h", "ClusterIP", "None", "<none>", "80/TCP", "<unknown>", "<none>"}},
		{"endpoints", "endpoints", `{"metadata":{"name":"web","creationTimestamp":"` + created + `"},"subsets":[{"addresses":[{"ip":"10.244.0.5"},{"ip":"10.244.0.6"}],"notReadyAddresses":[{"ip":"10.244.0.7"}],"ports":[{"port":9876}]}]}`,
			[]any{"web", "10.244.0.5:9876,10.244.0.6:9876", "90m"}},
		{"many endpoints", "endpoints", `{"metadata":{"name":"web"},"subsets":[{"addresses":[{"ip":"a"},{"ip":"b"},{"ip":"c"},{"ip":"d"},{"ip":"e"}],"ports":[{"port":80}]}]}`,
			[]any{"web", "a:80,b:80,c:80 + 2 more...", "<unknown>"}},
		{"no endpoints", "endpoints", `{"metadata":{"name":"web"}}`, []any{"web", "<none>", "<unknown>"}},
		{"service account", "serviceaccounts", `{"metadata":{"name":"builder","creationTimestamp":"` + created + `"}}`, []any{"builder", 0, "90m"}},
		{"service account with secrets", "serviceaccounts", `{"metadata":{"name":"old"},"secrets":[{"name":"old-token"}]}`, []any{"old", 1, "<unknown>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o map[string]any
			if err := json.Unmarshal([]byte(tt.json), &o); err != nil {
				t.Fatal(err)
			}
			got := printers[tt.kind].cells(o, now)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("cells %q, want %q", got, tt.want)
			}
			if len(got) != len(printers[tt.kind].columns) {
				t.Fatalf("%d cells for %d columns", len(got), len(printers[tt.kind].columns))
			}
		})
	}
}

func TestAge(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		ago  time.Duration
		want string
	}{{5 * time.Second, "5s"}, {119 * time.Second, "119s"}, {5*time.Minute + 3*time.Second, "5m3s"}, {90 * time.Minute, "90m"}, {5*time.Hour + 10*time.Minute, "5h10m"}, {30 * time.Hour, "30h"}, {3*24*time.Hour + 4*time.Hour, "3d4h"}, {40 * 24 * time.Hour, "40d"}} {
		t.Run(tt.want, func(t *testing.T) {
			if got := age(now.Add(-tt.ago).Format(time.RFC3339), now); got != tt.want {
				t.Fatalf("age(%v) = %q, want %q", tt.ago, got, tt.want)
			}
		})
	}
}
