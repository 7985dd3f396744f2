package api

func (b *pkiBackend) roleRoutes() []Route { return nil }
