package etcdstore

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Watch calls fn for every key that another engine (another replica)
// writes or deletes under the prefix, until ctx ends: that is how a
// replica learns that the records behind its caches changed. Writes of
// this engine are not reported. A compacted or broken watch is restarted
// from the current revision, and fn is then called once with an empty
// space and key, meaning "anything may have changed".
func (e *Engine) Watch(ctx context.Context, fn func(space, key string)) {
	base := e.prefix + "/"
	for ctx.Err() == nil {
		wc := e.cli.Watch(clientv3.WithRequireLeader(ctx), base, clientv3.WithPrefix())
		for resp := range wc {
			if resp.Err() != nil {
				break
			}
			for _, ev := range resp.Events {
				if e.isOwn(ev.Kv.ModRevision) {
					continue
				}
				if space, key, ok := splitKey(base, string(ev.Kv.Key)); ok {
					fn(space, key)
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		fn("", "") // events may have been missed while the watch was down
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// splitKey turns "<prefix>/<space>/<key>" back into space and key.
func splitKey(base, k string) (space, key string, ok bool) {
	rest, found := strings.CutPrefix(k, base)
	if !found {
		return "", "", false
	}
	esc, key, found := strings.Cut(rest, "/")
	if !found {
		return "", "", false
	}
	space, err := url.PathUnescape(esc)
	return space, key, err == nil
}

// Leadership is this replica's standing in an election among the replicas
// of one prefix. Work that must run once for the whole cluster (periodic
// tidy, CRL auto-rebuild) runs only while Leader reports true.
type Leadership struct {
	leader atomic.Bool
	done   chan struct{}
}

// Leader reports whether this replica holds the election now.
func (l *Leadership) Leader() bool { return l.leader.Load() }

// Done is closed once the campaign has stopped (ctx ended).
func (l *Leadership) Done() <-chan struct{} { return l.done }

// Elect campaigns, as id, for the replicas' election under the prefix,
// until ctx ends. Leadership rides on a lease of ttl seconds: a replica
// that dies or loses etcd loses it within ttl, and another takes over.
func (e *Engine) Elect(ctx context.Context, id string, ttl int) *Leadership {
	l := &Leadership{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for ctx.Err() == nil {
			if err := e.campaign(ctx, l, id, ttl); err != nil && ctx.Err() == nil {
				select { // etcd unreachable: try again shortly
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
	return l
}

// campaign runs one session: wait to win, hold until the session's lease
// is lost or ctx ends.
func (e *Engine) campaign(ctx context.Context, l *Leadership, id string, ttl int) error {
	sess, err := concurrency.NewSession(e.cli, concurrency.WithTTL(ttl), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("etcdstore: election session: %w", err)
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, e.prefix+"/_election")
	if err := el.Campaign(ctx, id); err != nil {
		return fmt.Errorf("etcdstore: campaign: %w", err)
	}
	l.leader.Store(true)
	defer l.leader.Store(false)
	select {
	case <-sess.Done():
		return fmt.Errorf("etcdstore: election lease lost")
	case <-ctx.Done():
		resign, cancel := context.WithTimeout(context.Background(), e.timeout)
		defer cancel()
		_ = el.Resign(resign)
		return nil
	}
}
