package storage

// PendingCommits reports how many Commit calls wait for the committer, so that
// tests can line up a batch without sleeping.
func PendingCommits(s *Store) int { return len(s.eng.(*boltEngine).committer.reqs) }
