package main

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The repository root, from cmd/passerelle.
const root = "../.."

func readRoot(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var configVarRE = regexp.MustCompile("`((?:TELEGRAM|PASSERELLE)_[A-Z_]+)`")

// readmeVariables returns the variables of README.md's configuration
// table (every name in its first column).
func readmeVariables(t *testing.T) []string {
	t.Helper()
	readme := readRoot(t, "README.md")
	start := strings.Index(readme, "| variable | meaning | default |")
	if start < 0 {
		t.Fatal("README.md has no configuration table")
	}
	var vars []string
	sc := bufio.NewScanner(strings.NewReader(readme[start:]))
	sc.Scan() // header
	sc.Scan() // separator
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "|") {
			break
		}
		first := strings.Split(line, "|")[1]
		for _, m := range configVarRE.FindAllStringSubmatch(first, -1) {
			vars = append(vars, m[1])
		}
	}
	if len(vars) < 10 {
		t.Fatalf("README.md's table lists only %v", vars)
	}
	return vars
}

// compose is the part of docker-compose.yml the checks read.
type compose struct {
	Services map[string]struct {
		Build       any               `yaml:"build"`
		Environment map[string]string `yaml:"environment"`
		Secrets     []string          `yaml:"secrets"`
		Volumes     []yaml.Node       `yaml:"volumes"` // short "a:b:ro" or long form

		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		Ports []string `yaml:"ports"`
	} `yaml:"services"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

// TestComposePassesEverything: docker-compose.yml passes every variable of
// README.md's configuration table to the bot, mounts the partners file's
// directory read-only and the data key as a Docker secret, checks health
// with the binary, and publishes only on loopback; .env.example documents
// every variable; .dockerignore keeps secrets, .env and stores out of the
// image, and .gitignore out of git.
func TestComposePassesEverything(t *testing.T) {
	t.Parallel()
	var c compose
	if err := yaml.Unmarshal([]byte(readRoot(t, "docker-compose.yml")), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	bot, ok := c.Services["bot"]
	if !ok {
		t.Fatal("docker-compose.yml has no bot service")
	}
	vars := readmeVariables(t)
	example := readRoot(t, ".env.example")
	for _, v := range vars {
		val, ok := bot.Environment[v]
		if !ok {
			t.Errorf("docker-compose.yml does not pass %s to the bot", v)
			continue
		}
		// Passed from .env (interpolated), or fixed on purpose inside the
		// container (the listen address, the secret's path).
		if !strings.Contains(val, "${"+v) && v != "PASSERELLE_LISTEN" && v != "PASSERELLE_DATA_KEY_FILE" {
			t.Errorf("docker-compose.yml sets %s to %q instead of passing ${%s} from .env", v, val, v)
		}
		if !regexp.MustCompile(`(?m)^#?\s*`+v+`=`).MatchString(example) && !strings.Contains(example, v+" is set by") {
			t.Errorf(".env.example does not document %s", v)
		}
	}

	// The partners file: PASSERELLE_PARTNERS points into a read-only mount.
	m := regexp.MustCompile(`(?m)^#\s*PASSERELLE_PARTNERS=(\S+)`).FindStringSubmatch(example)
	if m == nil {
		t.Fatal(".env.example shows no PASSERELLE_PARTNERS path")
	}
	type mount struct {
		Type     string `yaml:"type"`
		Source   string `yaml:"source"`
		Target   string `yaml:"target"`
		ReadOnly bool   `yaml:"read_only"`
	}
	var mounts []mount
	for _, n := range bot.Volumes {
		var vol mount
		if n.Kind == yaml.ScalarNode { // source:target[:ro]
			parts := strings.Split(n.Value, ":")
			vol = mount{Type: "bind", Source: parts[0], Target: parts[min(1, len(parts)-1)], ReadOnly: len(parts) > 2 && parts[2] == "ro"}
		} else if err := n.Decode(&vol); err != nil {
			t.Fatal(err)
		}
		mounts = append(mounts, vol)
	}
	mounted := false
	for _, vol := range mounts {
		if vol.Type == "bind" && strings.HasPrefix(m[1], vol.Target+"/") {
			mounted = true
			if !vol.ReadOnly {
				t.Errorf("the partners file's mount %s is not read-only", vol.Target)
			}
		}
	}
	if !mounted {
		t.Errorf("PASSERELLE_PARTNERS=%s is in no mount of the bot (%+v)", m[1], mounts)
	}

	// The data key: a Docker secret, whose path is PASSERELLE_DATA_KEY_FILE.
	if !slices.Contains(bot.Secrets, "data_key") || c.Secrets["data_key"].File == "" {
		t.Errorf("the data key is not a Docker secret of the bot: %v %v", bot.Secrets, c.Secrets)
	}
	if got := bot.Environment["PASSERELLE_DATA_KEY_FILE"]; got != path.Join("/run/secrets", "data_key") {
		t.Errorf("PASSERELLE_DATA_KEY_FILE = %q; want the secret's path /run/secrets/data_key", got)
	}
	if !slices.Equal(bot.Healthcheck.Test, []string{"CMD", "/passerelle", "health"}) {
		t.Errorf("health check %v does not use the binary", bot.Healthcheck.Test)
	}
	for _, p := range bot.Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("port %q is published beyond this machine", p)
		}
	}

	ignore := strings.Fields(readRoot(t, ".dockerignore"))
	for _, want := range []string{".env", ".git", "*.db", "secrets/", "config/"} {
		if !slices.Contains(ignore, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
	gitignore := strings.Fields(readRoot(t, ".gitignore"))
	for _, want := range []string{".env", "*.db", "/secrets/"} {
		if !slices.Contains(gitignore, want) {
			t.Errorf(".gitignore does not exclude %s", want)
		}
	}
}

// dockerInstruction is one instruction of a Dockerfile, continuation
// lines joined.
type dockerInstruction struct {
	line int
	cmd  string // upper case
	args string
}

func parseDockerfile(t *testing.T, text string) []dockerInstruction {
	t.Helper()
	var out []dockerInstruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{start, strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// TestDockerfileLint checks the rules of hadolint (not packaged for this
// machine) that matter here, and the project's own: images pinned to a
// tag, COPY not ADD, absolute WORKDIR, exec form for CMD, ENTRYPOINT and
// HEALTHCHECK, a non-root user in the final stage, no secret in ENV, and a
// static, reproducible, version-stamped build with a writable /tmp.
func TestDockerfileLint(t *testing.T) {
	t.Parallel()
	ins := parseDockerfile(t, readRoot(t, "Dockerfile"))
	var problems []string
	bad := func(in dockerInstruction, format string) {
		problems = append(problems, "Dockerfile:"+strconv.Itoa(in.line)+": "+in.cmd+" "+in.args+": "+format)
	}
	var finalUser string
	var finalStage []dockerInstruction
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			image := strings.Fields(in.args)[0]
			finalStage, finalUser = nil, ""
			if image != "scratch" && (!strings.Contains(image, ":") || strings.HasSuffix(image, ":latest")) {
				bad(in, "pin the image to a tag (DL3006, DL3007)")
			}
		case "ADD":
			bad(in, "use COPY (DL3020)")
		case "WORKDIR":
			if !strings.HasPrefix(in.args, "/") {
				bad(in, "use an absolute WORKDIR (DL3000)")
			}
		case "CMD", "ENTRYPOINT":
			if !strings.HasPrefix(in.args, "[") {
				bad(in, "use the exec (JSON) form (DL3025)")
			}
		case "HEALTHCHECK":
			if i := strings.Index(in.args, "CMD "); i < 0 || !strings.HasPrefix(in.args[i+4:], `["/passerelle", "health"]`) {
				bad(in, "check health with the binary, in exec form")
			}
		case "USER":
			finalUser = in.args
		case "ENV":
			if regexp.MustCompile(`(?i)(TOKEN|SECRET|DATA_KEY)=`).MatchString(in.args) {
				bad(in, "no secret in ENV: it stays in the image")
			}
		case "RUN":
			if strings.Contains(in.args, "apt-get install") && !strings.Contains(in.args, "--no-install-recommends") {
				bad(in, "apt-get install --no-install-recommends (DL3015)")
			}
			if strings.Contains(in.args, "sudo ") {
				bad(in, "no sudo (DL3004)")
			}
			if strings.Contains(in.args, "go build") {
				for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=${VERSION}"} {
					if !strings.Contains(in.args, want) {
						bad(in, "the build needs "+want+" (static, reproducible, version stamped)")
					}
				}
			}
		}
		finalStage = append(finalStage, in)
	}
	if finalUser == "" || finalUser == "root" || strings.HasPrefix(finalUser, "0") {
		problems = append(problems, "the final stage must run as a non-root USER (DL3002)")
	}
	tmp := false
	for _, in := range finalStage {
		if in.cmd == "COPY" && strings.HasSuffix(in.args, " /tmp") && strings.Contains(in.args, "--chown=") {
			tmp = true
		}
	}
	if !tmp {
		problems = append(problems, "the final stage needs a /tmp the user can write (passerelle chat)")
	}
	for _, p := range problems {
		t.Error(p)
	}
}
