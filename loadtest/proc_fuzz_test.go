package loadtest

import "testing"

// FuzzParseStatCPU: /proc/<pid>/stat parsing must never panic, whatever the
// command name holds.
func FuzzParseStatCPU(f *testing.F) {
	f.Add([]byte(statLine("pkid", 1, 2)))
	f.Add([]byte(statLine("a) b (c", 10, 0)))
	f.Add([]byte("1 (x)"))
	f.Add([]byte(")"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, raw []byte) {
		parseStatCPU(raw)
	})
}
