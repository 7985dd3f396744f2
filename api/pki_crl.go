package api

func (b *pkiBackend) crlRoutes() []Route { return nil }
