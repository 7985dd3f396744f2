package api

func (b *pkiBackend) issueRoutes() []Route { return nil }
