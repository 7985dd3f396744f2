package etcdstore

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// unavailableErrs are etcd's answers that mean "not now" rather than "no":
// no quorum, a leader change, a request that timed out in raft.
var unavailableErrs = []error{
	context.DeadlineExceeded,
	clientv3.ErrNoAvailableEndpoints,
	rpctypes.ErrNoLeader,
	rpctypes.ErrTimeout,
	rpctypes.ErrTimeoutDueToLeaderFail,
	rpctypes.ErrTimeoutDueToConnectionLost,
	rpctypes.ErrLeaderChanged,
	rpctypes.ErrNotCapable,
	rpctypes.ErrStopped,
	rpctypes.ErrTimeoutWaitAppliedIndex,
}

func isUnavailable(err error) bool {
	for _, u := range unavailableErrs {
		if errors.Is(err, u) {
			return true
		}
	}
	// The client reports an unreachable cluster as a gRPC status, unwrapped.
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		switch se.GRPCStatus().Code() {
		case codes.Unavailable, codes.DeadlineExceeded:
			return true
		}
	}
	return false
}
