// Command probe reports, as one JSON line, what really applies inside the container it runs in:
// the /tmp mount, the memory, swap and pids limits of its cgroup (v1 or v2), the nofile limits the
// shell measured before the Go runtime raised the soft one, the environment the container
// started with, and what the Go runtime made of GOMEMLIMIT and GOMAXPROCS. A malformed GOMEMLIMIT
// never gets here: the runtime throws at start ("malformed GOMEMLIMIT"), which is what the
// negative control relies on.
//
// Built with Debian's Go (1.19+: debug.SetMemoryLimit) as a static binary (CGO_ENABLED=0), so it
// runs in an image FROM scratch. Only the standard library.
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

type report struct {
	TmpFstype  string            `json:"tmp_fstype"`
	TmpOptions []string          `json:"tmp_options"`
	TmpMode    string            `json:"tmp_mode"`
	Cgroup     map[string]string `json:"cgroup"`
	NofileSoft string            `json:"nofile_soft"`
	NofileHard string            `json:"nofile_hard"`
	Env        map[string]string `json:"env"`
	GoMemLimit int64             `json:"gomemlimit"`
	GoMaxProcs int               `json:"gomaxprocs"`
}

// The files the probe reads: cgroup v1 (one hierarchy per controller) and v2 (unified).
var cgroupFiles = []string{
	"/sys/fs/cgroup/memory/memory.limit_in_bytes",
	"/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes",
	"/sys/fs/cgroup/pids/pids.max",
	"/sys/fs/cgroup/memory.max",
	"/sys/fs/cgroup/memory.swap.max",
	"/sys/fs/cgroup/pids.max",
}

func main() {
	r := report{Cgroup: map[string]string{}, Env: map[string]string{}}
	if len(os.Args) > 2 {
		r.NofileSoft, r.NofileHard = os.Args[1], os.Args[2]
	}
	if f, err := os.Open("/proc/self/mounts"); err == nil {
		scan := bufio.NewScanner(f)
		for scan.Scan() {
			fields := strings.Fields(scan.Text())
			if len(fields) >= 4 && fields[1] == "/tmp" { // the last mount on /tmp is the one in effect
				r.TmpFstype, r.TmpOptions = fields[2], strings.Split(fields[3], ",")
			}
		}
		f.Close()
	}
	if st, err := os.Stat("/tmp"); err == nil {
		mode := uint32(st.Mode().Perm())
		if st.Mode()&os.ModeSticky != 0 {
			mode |= 0o1000
		}
		if st.Mode()&os.ModeSetgid != 0 {
			mode |= 0o2000
		}
		if st.Mode()&os.ModeSetuid != 0 {
			mode |= 0o4000
		}
		r.TmpMode = octal(mode)
	}
	for _, path := range cgroupFiles {
		if b, err := os.ReadFile(path); err == nil {
			r.Cgroup[path] = strings.TrimSpace(string(b))
		}
	}
	// The environment the container started with: that of the shell that started the probe (its
	// pid is the third argument), because busybox sh passes on only the variables whose names are
	// shell identifiers (Elasticsearch's "discovery.type" is not).
	environ := os.Environ()
	if len(os.Args) > 3 {
		if b, err := os.ReadFile("/proc/" + os.Args[3] + "/environ"); err == nil {
			environ = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		}
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			r.Env[k] = v
		}
	}
	r.GoMemLimit = debug.SetMemoryLimit(-1)
	r.GoMaxProcs = runtime.GOMAXPROCS(0)
	out, _ := json.Marshal(r)
	os.Stdout.Write(append(out, '\n'))
}

func octal(n uint32) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for n > 0 {
		s = string(rune('0'+n%8)) + s
		n /= 8
	}
	return s
}
