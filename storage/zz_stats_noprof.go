//go:build !perfprof

package storage

import "time"

func debugStatsHook() func(int, time.Duration) { return nil }

const debugYield = false
