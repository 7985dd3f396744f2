// Package etcd runs pkid on an embedded three-member etcd cluster: the
// etcd engine's conformance, two replicas sharing one CA, a member lost
// mid-run, and the issue benchmark against bbolt. It is a module of its own
// so that the main module does not depend on the etcd server.
package etcd
