package bot_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps imports pointing one way (DESIGN.md,
// Layout): the core and the domain never reach a transport, a store or a
// client library; only the Telegram transport imports the Telegram library.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/passerelle-bot/passerelle/"
	forbidden := map[string][]string{
		"bot": {
			"github.com/go-telegram-bot-api/telegram-bot-api/v5",
			"github.com/redis/go-redis/v9",
			"go.etcd.io/bbolt",
			mod + "internal/transport/",
			mod + "internal/store/",
			mod + "cmd/",
		},
		"internal/catalog":  {mod + "bot", mod + "internal/transport/", mod + "internal/store/", "github.com/redis/go-redis/v9"},
		"internal/clock":    {mod + "bot", mod + "internal/"},
		"internal/seal":     {mod + "bot", mod + "internal/"},
		"internal/guide":    {mod + "bot", mod + "internal/catalog", mod + "internal/transport/", mod + "internal/store/", "github.com/redis/go-redis/v9", "github.com/go-telegram-bot-api/telegram-bot-api/v5"},
		"internal/reminder": {mod + "bot", mod + "internal/transport/", mod + "internal/store/", "github.com/redis/go-redis/v9", "go.etcd.io/bbolt"},
		"internal/permit":   {mod + "bot", mod + "internal/catalog", mod + "internal/guide", mod + "internal/transport/", mod + "internal/store/", "github.com/redis/go-redis/v9", "gopkg.in/", "go.yaml.in/"},
		"internal/handoff":  {mod + "bot", mod + "internal/catalog", mod + "internal/guide", mod + "internal/permit", mod + "internal/reminder", mod + "internal/transport/", mod + "internal/store/", "github.com/redis/go-redis/v9", "go.etcd.io/bbolt", "github.com/go-telegram-bot-api/telegram-bot-api/v5"},
		"internal/digits":   {mod + "bot", mod + "internal/catalog", mod + "internal/permit", mod + "internal/guide", mod + "internal/transport/", mod + "internal/store/"},
		"internal/store/bolt": {
			"github.com/go-telegram-bot-api/telegram-bot-api/v5", mod + "internal/transport/",
		},
		"internal/store/redis": {
			"github.com/go-telegram-bot-api/telegram-bot-api/v5", mod + "internal/transport/",
		},
		"internal/transport/console":  {"github.com/go-telegram-bot-api/telegram-bot-api/v5", mod + "internal/store/"},
		"internal/transport/web":      {"github.com/go-telegram-bot-api/telegram-bot-api/v5", mod + "internal/store/", mod + "internal/transport/telegram"},
		"internal/ical":               {mod + "bot", mod + "internal/"},
		"internal/translate":          {mod + "bot", mod + "internal/"},
		"internal/transport/telegram": {mod + "internal/store/", "github.com/redis/go-redis/v9", "go.etcd.io/bbolt"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == mod+pkg {
				continue
			}
			for _, b := range bad {
				if dep == b || strings.HasPrefix(dep, b) && (strings.HasSuffix(b, "/") || strings.HasPrefix(dep, b+"/")) {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
	// Only the Telegram transport (and the command wiring it) may import the
	// Telegram library.
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/go-telegram-bot-api/") && fields[0] != mod+"internal/transport/telegram" {
				t.Errorf("%s imports the Telegram library; only internal/transport/telegram may", fields[0])
			}
			// Metrics: the core, the domain, the stores and the transports
			// call observer interfaces; only the command knows Prometheus.
			if strings.HasPrefix(imp, "github.com/prometheus/") && !strings.HasPrefix(fields[0], mod+"cmd/") {
				t.Errorf("%s imports Prometheus; only cmd/ may (use an observer interface)", fields[0])
			}
		}
	}
}
