package api

func (b *pkiBackend) caRoutes() []Route { return nil }
