package profile

// Oracle Cloud Marketplace. Helper H1 fills the checks.

var _ = register(
	Profile{Name: Oracle, Marketplace: MarketOracle, OS: Linux, Title: "Oracle Cloud Marketplace, Linux"},
)
