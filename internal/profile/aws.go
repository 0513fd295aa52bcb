package profile

// AWS Marketplace (AMI products). Helper H1 fills the checks.

var _ = register(
	Profile{Name: AWS, Marketplace: MarketAWS, OS: Linux, Title: "AWS Marketplace, Linux AMI"},
	Profile{Name: AWSWindows, Marketplace: MarketAWS, OS: Windows, Title: "AWS Marketplace, Windows AMI"},
)
