package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat. The
// kernel fixes it at 100 for user space on every architecture Go supports
// (proc(5)); sysconf(_SC_CLK_TCK) would say the same without cgo.
const clockTicks = 100

// ReadProcessCPU returns the user plus system CPU time process pid has used,
// from <procfs>/<pid>/stat (fields 14 and 15 in proc(5)).
func ReadProcessCPU(procfs string, pid int) (time.Duration, error) {
	raw, err := os.ReadFile(filepath.Join(procfs, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(raw)
}

func parseStatCPU(raw []byte) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may itself hold
	// spaces and parentheses, so count fields from the last ')'.
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return 0, errors.New("stat: no command name")
	}
	fields := strings.Fields(string(raw[end+1:]))
	// fields[0] is field 3 (state), so utime (14) is fields[11].
	if len(fields) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the command name, want at least 13", len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: CPU time %q: %w", f, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// LoadAvg is the host's 1, 5 and 15 minute load averages.
type LoadAvg [3]float64

func (l LoadAvg) String() string {
	return fmt.Sprintf("%.2f %.2f %.2f", l[0], l[1], l[2])
}

// ReadLoadAvg reads <procfs>/loadavg.
func ReadLoadAvg(procfs string) (LoadAvg, error) {
	raw, err := os.ReadFile(filepath.Join(procfs, "loadavg"))
	if err != nil {
		return LoadAvg{}, err
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 3 {
		return LoadAvg{}, fmt.Errorf("loadavg: %q", raw)
	}
	var l LoadAvg
	for i := range l {
		if l[i], err = strconv.ParseFloat(fields[i], 64); err != nil {
			return LoadAvg{}, fmt.Errorf("loadavg: %w", err)
		}
	}
	return l, nil
}
