package profile

// DigitalOcean Marketplace. Helper H3 fills the checks.

var _ = register(
	Profile{Name: DigitalOcean, Marketplace: MarketDO, OS: Linux, Title: "DigitalOcean Marketplace, Linux"},
)
