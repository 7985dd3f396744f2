//go:build perfprof

package storage

import (
	"fmt"
	"os"
	"sync"
	"time"
)

func debugStatsHook() func(int, time.Duration) {
	var stMu sync.Mutex
	var stN, stB, stMax int
	var stDur time.Duration
	stLast := time.Now()
	return func(n int, d time.Duration) {
		stMu.Lock()
		defer stMu.Unlock()
		stN++
		stB += n
		stDur += d
		stMax = max(stMax, n)
		if time.Since(stLast) > 2*time.Second {
			fmt.Fprintf(os.Stderr, "commit: %d batches, mean %.1f max %d, mean commit %v, busy %.0f%%\n",
				stN, float64(stB)/float64(stN), stMax, stDur/time.Duration(stN), 100*stDur.Seconds()/time.Since(stLast).Seconds())
			stN, stB, stMax, stDur, stLast = 0, 0, 0, 0, time.Now()
		}
	}
}

var debugYield = os.Getenv("PKID_COMMIT_YIELD") != ""
